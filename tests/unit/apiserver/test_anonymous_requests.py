"""Requests without credentials, as kube-apiserver 1.31 takes them with its default
--anonymous-auth=true: the caller is system:anonymous in system:unauthenticated, authorized like
anyone else under the bootstrap policy (only system:public-info-viewer is bound to that group), so
what it may not do is a 403 Forbidden in Kubernetes' words, not a 401; only credentials that are
present but name no one are a 401, and with --anonymous-auth=false so is a request without any.
The decision (apiserver.auth), then the gRPC door's interceptors on a real TLS server."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from apiserver import errors
from apiserver.__main__ import parse_args
from apiserver.auth.authenticator import Authenticator
from apiserver.auth.authorizer import Authorizer
from apiserver.auth.impersonation import Impersonation, impersonate
from apiserver.auth.token_file import TokenAuthenticator
from apiserver.auth.user import ANONYMOUS, UserInfo
from apiserver.endpoints.grpc.interceptors.authentication import AuthenticationInterceptor
from apiserver.endpoints.grpc.interceptors.authorization import AuthorizationInterceptor
from apiserver.options.secure_serving import SecureServing
from podplane.api.core.v1 import services_pb2_grpc
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import resources
from podplane.client.credentials import Credentials
from podplane.componentbase.serving import Server
from tests.pki_support import apiserver_tls_flags, make_pki, secure_serving, token_credentials

VIEWER = UserInfo("viewer", frozenset({"viewers"}))
TOKENS = TokenAuthenticator({"abc": VIEWER})
AUTHORIZER = Authorizer(lambda namespace: [])  # the bootstrap policy, in memory
LIST_PODS_FORBIDDEN = (
    'pods is forbidden: User "system:anonymous" cannot list resource "pods" in API group "" '
    'in the namespace "default"'
)
IMPERSONATION_FORBIDDEN = (
    'users "admin" is forbidden: User "system:anonymous" cannot impersonate resource "users" '
    'in API group "" at the cluster scope'
)


def signed_in(user: UserInfo) -> UserInfo:
    return dataclasses.replace(user, groups=user.groups | {"system:authenticated"})


# ------------------------------------------------------------------ who the caller is
@pytest.mark.parametrize(
    ("subject", "token", "anonymous", "expected"),
    [
        # No credentials at all: system:anonymous, or a 401 (None) with --anonymous-auth=false.
        (None, None, True, ANONYMOUS),
        (None, None, False, None),
        # A token someone issued is its user, either way.
        (None, "abc", True, signed_in(VIEWER)),
        (None, "abc", False, signed_in(VIEWER)),
        # A token no one issued is a 401, never anonymous (union.NewFailOnError).
        (None, "nobody", True, None),
        (None, "nobody", False, None),
        # A verified certificate is its CN, and wins over a bad token (the union's first).
        (
            "CN=jane,O=devs",
            None,
            False,
            UserInfo("jane", frozenset({"devs", "system:authenticated"})),
        ),
        ("CN=jane", "nobody", True, UserInfo("jane", frozenset({"system:authenticated"}))),
        # A verified certificate without a CN names no one, with no error: anonymous.
        ("O=system:masters", None, True, ANONYMOUS),
        ("O=system:masters", None, False, None),
    ],
)
async def test_the_user_a_request_runs_as(
    subject: str | None, token: str | None, anonymous: bool, expected: UserInfo | None
) -> None:
    authenticator = Authenticator(TOKENS, anonymous=anonymous)
    assert await authenticator.authenticate_request(subject, token) == expected


def test_the_flag(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--anonymous-auth, true by default; =false (or false) turns it off; --insecure-serving,
    which authenticates no one, cannot be told to refuse anonymous callers."""
    pki = make_pki(tmp_path)
    tls = ["--etcd-servers", "https://127.0.0.1:2379", *apiserver_tls_flags(pki)]
    for flags, anonymous in (
        ([], True),
        (["--anonymous-auth"], True),
        (["--anonymous-auth=true"], True),
        (["--anonymous-auth=false"], False),
        (["--anonymous-auth", "false"], False),
    ):
        security = parse_args([*tls, *flags]).security
        assert security is not None and security.anonymous_auth is anonymous, flags
        assert security.authenticator().anonymous is anonymous, flags
    with pytest.raises(SystemExit):
        parse_args([*tls[:2], "--insecure-serving", "--anonymous-auth=false"])
    assert (
        capsys.readouterr()
        .err.strip()
        .endswith("--insecure-serving: cannot be combined with --anonymous-auth=false")
    )


async def test_a_token_review_never_answers_anonymous() -> None:
    """TokenReview asks about a token alone: one no one issued is not authenticated."""
    assert await Authenticator(TOKENS).authenticate(None, "nobody") is None


# ------------------------------------------------------------------ what it may do
@pytest.mark.parametrize("path", ["/healthz", "/livez", "/readyz", "/version", "/version/"])
def test_system_public_info_viewer_is_open_to_it(path: str) -> None:
    assert AUTHORIZER.non_resource_refusal(ANONYMOUS, "get", path) is None


@pytest.mark.parametrize("path", ["/api", "/apis", "/openapi/v3", "/metrics", "/readyz/etcd"])
def test_other_paths_are_forbidden_in_kubernetes_words(path: str) -> None:
    refused = AUTHORIZER.non_resource_refusal(ANONYMOUS, "get", path)
    assert refused is not None
    assert (refused.code, refused.reason) == (grpc.StatusCode.PERMISSION_DENIED, "Forbidden")
    assert refused.message == f'forbidden: User "system:anonymous" cannot get path "{path}"'


def test_resources_are_forbidden_in_kubernetes_words() -> None:
    with pytest.raises(errors.APIError) as refused:
        AUTHORIZER.check(ANONYMOUS, "list", "pods", "", "default", "")
    assert refused.value.code == grpc.StatusCode.PERMISSION_DENIED
    assert refused.value.reason == "Forbidden"
    assert refused.value.message == LIST_PODS_FORBIDDEN
    assert refused.value.details == errors.Details(kind="pods")


def test_it_cannot_impersonate() -> None:
    with pytest.raises(errors.APIError) as refused:
        impersonate(ANONYMOUS, Impersonation("admin"), AUTHORIZER.authorize)
    assert refused.value.code == grpc.StatusCode.PERMISSION_DENIED
    assert refused.value.message == IMPERSONATION_FORBIDDEN


# ------------------------------------------------------------------ the gRPC door
@pytest.fixture(scope="module")
def pki_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_pki(tmp_path_factory.mktemp("pki"))


async def serving(security: SecureServing) -> tuple[Server, int]:
    """A TLS server of the Pods service (no method implemented: authorization answers first)
    behind the apiserver's authentication and authorization interceptors; its token port."""
    authenticator = security.authenticator()
    server = Server(
        "127.0.0.1:0",
        lambda s: resources.POD.add_servicer(services_pb2_grpc.PodsServicer(), s),
        [resources.POD.service],
        credentials=security.server_credentials(),
        authentication=AuthenticationInterceptor(authenticator, AUTHORIZER),
        interceptors=[AuthorizationInterceptor(AUTHORIZER)],
    )
    token_port = server.add_port("127.0.0.1:0", security.server_credentials(False))
    await server.start()
    await server.set_serving(True)
    return server, token_port


@pytest.fixture
async def token_port(pki_dir: Path) -> AsyncIterator[int]:
    server, port = await serving(secure_serving(pki_dir))
    try:
        yield port
    finally:
        await server.stop(0)


@pytest.fixture
async def closed_token_port(pki_dir: Path) -> AsyncIterator[int]:
    """The same with --anonymous-auth=false."""
    server, port = await serving(dataclasses.replace(secure_serving(pki_dir), anonymous_auth=False))
    try:
        yield port
    finally:
        await server.stop(0)


async def list_pods(
    port: int, creds: Credentials, metadata: tuple[tuple[str, str], ...] = ()
) -> grpc.aio.AioRpcError:
    async with creds.aio_channel(f"localhost:{port}") as channel:
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await resources.POD.stub(channel).List(
                meta_pb2.ListRequest(namespace="default"), metadata=metadata, timeout=5
            )
    return info.value


async def list_services(port: int, creds: Credentials) -> list[str]:
    async with creds.aio_channel(f"localhost:{port}") as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        call = stub.ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=5
        )
        async for answer in call:
            return [s.name for s in answer.list_services_response.service]
    return []


async def reflection_refusal(port: int, creds: Credentials) -> tuple[grpc.StatusCode, str]:
    """The status that ends a reflection call sending no request: a refusal comes before any is
    read. (A client still writing when the server ends a bidirectional call can read grpc's own
    INTERNAL "Internal error from Core" instead of the status the server sent: 2 of 40 runs
    under load, a race in grpc's client, not in what the apiserver answers.)"""
    async with creds.aio_channel(f"localhost:{port}") as channel:
        call = reflection_pb2_grpc.ServerReflectionStub(channel).ServerReflectionInfo(timeout=5)
        return await call.code(), await call.details()


async def health(port: int, creds: Credentials) -> int:
    async with creds.aio_channel(f"localhost:{port}") as channel:
        reply = await health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(), timeout=5
        )
    return int(reply.status)


async def test_the_grpc_door_answers_403_where_the_rest_door_does(
    token_port: int, pki_dir: Path
) -> None:
    nobody = Credentials(str(pki_dir / "ca.crt"))
    refused = await list_pods(token_port, nobody)
    assert (refused.code(), refused.details()) == (
        grpc.StatusCode.PERMISSION_DENIED,
        LIST_PODS_FORBIDDEN,
    )
    refused = await list_pods(token_port, nobody, (("impersonate-user", "admin"),))
    assert (refused.code(), refused.details()) == (
        grpc.StatusCode.PERMISSION_DENIED,
        IMPERSONATION_FORBIDDEN,
    )
    # A token no one issued is still a 401.
    refused = await list_pods(token_port, Credentials(str(pki_dir / "ca.crt"), token="nobody"))
    assert (refused.code(), refused.details()) == (grpc.StatusCode.UNAUTHENTICATED, "Unauthorized")


async def test_reflection_is_authorized_as_the_openapi_document(
    token_port: int, pki_dir: Path
) -> None:
    assert await reflection_refusal(token_port, Credentials(str(pki_dir / "ca.crt"))) == (
        grpc.StatusCode.PERMISSION_DENIED,
        'forbidden: User "system:anonymous" cannot get path "/openapi/v3"',
    )
    # system:discovery lets every authenticated user read it (the viewer is no master).
    listed = await list_services(token_port, token_credentials(pki_dir, "viewer"))
    assert resources.POD.service in listed


async def test_health_is_open_to_anonymous_callers(token_port: int, pki_dir: Path) -> None:
    serving_status = health_pb2.HealthCheckResponse.SERVING
    assert await health(token_port, Credentials(str(pki_dir / "ca.crt"))) == serving_status


async def test_without_anonymous_requests_no_credentials_is_401(
    closed_token_port: int, pki_dir: Path
) -> None:
    nobody = Credentials(str(pki_dir / "ca.crt"))
    unauthorized = (grpc.StatusCode.UNAUTHENTICATED, "Unauthorized")
    refused = await list_pods(closed_token_port, nobody)
    assert (refused.code(), refused.details()) == unauthorized
    assert await reflection_refusal(closed_token_port, nobody) == unauthorized
    # Health too, as /healthz is then; with credentials it answers.
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await health(closed_token_port, nobody)
    assert (info.value.code(), info.value.details()) == unauthorized
    viewer = token_credentials(pki_dir, "viewer")
    assert await health(closed_token_port, viewer) == health_pb2.HealthCheckResponse.SERVING
