"""The authentication interceptor on a real grpc.aio server over TLS: client certificates and
bearer tokens give the caller (current_user() inside the handler), a call without either is
system:anonymous (authorization refuses it what RBAC does not grant it:
test_anonymous_requests.py), and a token no one issued is refused."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from apiserver.auth.authenticator import Authenticator
from apiserver.auth.token_file import TokenAuthenticator, TokenFileError, load_token_file
from apiserver.auth.user import ANONYMOUS, UserInfo, current_user
from apiserver.auth.x509 import parse_rfc2253, user_from_subject
from apiserver.endpoints.grpc.interceptors.authentication import (
    AuthenticationInterceptor,
    authenticate,
    bearer_token,
)
from podplane.api.core.v1 import core_pb2, services_pb2_grpc
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import resources
from podplane.client.credentials import Credentials
from podplane.componentbase.serving import Server
from tests.pki_support import cert_credentials, make_pki, secure_serving, token_credentials


def test_subject_gives_user_and_groups() -> None:
    assert user_from_subject("CN=system:node:node-1,O=system:nodes") == UserInfo(
        "system:node:node-1", frozenset({"system:nodes"})
    )
    assert user_from_subject("O=a,O=b,CN=jane") == UserInfo("jane", frozenset({"a", "b"}))
    assert parse_rfc2253(r"CN=a\,b,O=x\2Cy") == [("CN", "a,b"), ("O", "x,y")]
    assert user_from_subject("O=system:masters") is None  # no common name: no user


def test_token_file(tmp_path: Path) -> None:
    path = tmp_path / "tokens.csv"
    path.write_text('t1,alice,1,"g1,g2"\nt2,bob,2\n\n')
    tokens = load_token_file(path)
    assert tokens == {
        "t1": UserInfo("alice", frozenset({"g1", "g2"}), "1"),
        "t2": UserInfo("bob", uid="2"),
    }
    path.write_text("t1,alice\n")
    with pytest.raises(TokenFileError, match=r"tokens.csv:1: expected token,user,uid"):
        load_token_file(path)
    path.write_text("t1,a,1\nt1,b,2\n")
    with pytest.raises(TokenFileError, match=r":2: duplicate token"):
        load_token_file(path)
    with pytest.raises(TokenFileError, match=r"--token-auth-file: cannot read"):
        load_token_file(tmp_path / "missing.csv")


async def test_bearer_header() -> None:
    assert bearer_token([("authorization", "Bearer abc")]) == "abc"
    assert bearer_token([("authorization", "bearer  abc ")]) == "abc"
    assert bearer_token([("authorization", "Basic abc")]) is None
    assert bearer_token([("authorization", "Bearer ")]) is None
    auth = Authenticator(TokenAuthenticator({"abc": UserInfo("viewer", frozenset({"viewers"}))}))
    assert await authenticate(auth, {}, [("authorization", "Bearer abc")]) == UserInfo(
        "viewer", frozenset({"viewers", "system:authenticated"})
    )
    assert await authenticate(auth, {}, [("authorization", "Bearer abd")]) is None
    # No bearer token (none, or another scheme): anonymous, as Kubernetes' bearer authenticator
    # passes over other schemes without an error.
    assert await authenticate(auth, {}, []) == ANONYMOUS
    assert await authenticate(auth, {}, [("authorization", "Basic abc")]) == ANONYMOUS
    # A verified certificate wins over a token, as in Kubernetes' union authenticator.
    jane = await authenticate(
        auth, {"x509_subject": [b"CN=jane"]}, [("authorization", "Bearer abc")]
    )
    assert jane is not None and jane.name == "jane"


class WhoAmIPods(services_pb2_grpc.PodsServicer):  # type: ignore[misc]
    """Answers with the caller: the pod's name is the user, its labels the groups."""

    @staticmethod
    def _me() -> core_pb2.Pod:
        user = current_user()
        assert user is not None
        return core_pb2.Pod(
            metadata=meta_pb2.ObjectMeta(name=user.name, labels={g: "" for g in user.groups})
        )

    async def Get(self, request: meta_pb2.GetRequest, context: grpc.aio.ServicerContext) -> Any:
        return self._me()

    async def Watch(
        self, request: meta_pb2.WatchRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[Any]:
        yield core_pb2.PodWatchEvent(type="ADDED", object=self._me())


@pytest.fixture(scope="module")
def pki_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
async def ports(pki_dir: Path) -> AsyncIterator[tuple[int, int]]:
    """(client-certificate port, token port) of a TLS server with the interceptor."""
    security = secure_serving(pki_dir)
    server = Server(
        "127.0.0.1:0",
        lambda s: resources.POD.add_servicer(WhoAmIPods(), s),
        credentials=security.server_credentials(),
        authentication=AuthenticationInterceptor(security.authenticator()),
    )
    token_port = server.add_port("127.0.0.1:0", security.server_credentials(False))
    await server.start()
    await server.set_serving(True)
    try:
        yield server.port, token_port
    finally:
        await server.stop(0)


async def whoami(port: int, creds: Credentials | None) -> UserInfo:
    async with (
        creds.aio_channel(f"localhost:{port}")
        if creds
        else grpc.aio.insecure_channel(f"localhost:{port}")
    ) as channel:
        pod = await resources.POD.stub(channel).Get(meta_pb2.GetRequest(), timeout=5)
        async for event in resources.POD.stub(channel).Watch(meta_pb2.WatchRequest(), timeout=5):
            assert event.object.metadata.name == pod.metadata.name  # same caller on a stream
        return UserInfo(pod.metadata.name, frozenset(pod.metadata.labels))


async def test_certificate_users(ports: tuple[int, int], pki_dir: Path) -> None:
    assert await whoami(ports[0], cert_credentials(pki_dir, "node-1")) == UserInfo(
        "system:node:node-1", frozenset({"system:nodes", "system:authenticated"})
    )
    assert await whoami(ports[0], cert_credentials(pki_dir, "scheduler")) == UserInfo(
        "system:kube-scheduler", frozenset({"system:authenticated"})
    )


async def test_token_users(ports: tuple[int, int], pki_dir: Path) -> None:
    assert await whoami(ports[1], token_credentials(pki_dir, "viewer")) == UserInfo(
        "viewer", frozenset({"viewers", "system:authenticated"})
    )
    assert await whoami(ports[1], token_credentials(pki_dir, "admin")) == UserInfo(
        "admin", frozenset({"system:masters", "system:authenticated"})
    )


async def refused(port: int, creds: Credentials | None) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await whoami(port, creds)
    return info.value


async def test_refusals(ports: tuple[int, int], pki_dir: Path, tmp_path: Path) -> None:
    ca = str(pki_dir / "ca.crt")
    for port in ports:  # TLS but a token no one issued: 401
        err = await refused(port, Credentials(ca, token="not-a-token"))
        if port == ports[1]:
            assert (err.code(), err.details()) == (grpc.StatusCode.UNAUTHENTICATED, "Unauthorized")
    # The certificate port will not even complete a handshake without a certificate of the CA.
    other = make_pki(tmp_path / "other")
    assert (await refused(ports[0], Credentials(ca))).code() == grpc.StatusCode.UNAVAILABLE
    forged = Credentials(ca, str(other / "admin.crt"), str(other / "admin.key"))
    assert (await refused(ports[0], forged)).code() == grpc.StatusCode.UNAVAILABLE
    assert (await refused(ports[1], None)).code() == grpc.StatusCode.UNAVAILABLE  # plaintext


async def test_no_credentials_is_system_anonymous(
    ports: tuple[int, int], pki_dir: Path, tmp_path: Path
) -> None:
    ca = str(pki_dir / "ca.crt")
    assert await whoami(ports[1], Credentials(ca)) == ANONYMOUS
    # A certificate of another CA on the token port is not asked for: the call carries none.
    other = make_pki(tmp_path / "other")
    forged = Credentials(ca, str(other / "admin.crt"), str(other / "admin.key"))
    assert await whoami(ports[1], forged) == ANONYMOUS


async def test_health_is_open_to_anonymous_callers(ports: tuple[int, int], pki_dir: Path) -> None:
    async with Credentials(str(pki_dir / "ca.crt")).aio_channel(f"localhost:{ports[1]}") as ch:
        reply = await health_pb2_grpc.HealthStub(ch).Check(
            health_pb2.HealthCheckRequest(), timeout=5
        )
    assert reply.status == health_pb2.HealthCheckResponse.SERVING
