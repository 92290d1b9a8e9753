"""--use-service-account-credentials' client builder (controller/framework/client_builder.py), with
an in-memory apiserver: the account is read or created in kube-system, a token is requested for
it with an hour's expiry and renewed at 80 % of its life or once refused (401), failures are
retried with back-off; each controller's client carries its account's token, the informers stay
the manager's; every controller names an account that the bootstrap policy binds."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import grpc
import pytest

from apiserver.auth import bootstrap_policy
from controller import __main__ as controller_main
from controller.controllers import CONTROLLERS, SERVICE_ACCOUNTS
from controller.framework.client_builder import (
    MIN_LIFETIME,
    ServiceAccountClientBuilder,
    ServiceAccountTokenSource,
    get_or_create_service_account,
)
from controller.framework.manager import ControllerManager
from podplane.api.authentication.v1 import token_request_pb2
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import timeutil
from podplane.client.clientset import Client
from podplane.client.credentials import Credentials, _ReportUnauthenticated
from tests.pki_support import make_pki
from tests.unit.controller.fake_api import FakeCluster, rpc_error

NOW = 1_800_000_000.0


class FakeCore(FakeCluster):
    """The manager's own client: the fake cluster, and the token subresource, which answers
    `lifetime` seconds of validity (or fails the next `failures` requests)."""

    def __init__(self, lifetime: float = 3600.0) -> None:
        super().__init__()
        self.lifetime = lifetime
        self.failures = 0
        self.requests: list[token_request_pb2.TokenRequest] = []

    async def create_token(
        self, request: token_request_pb2.TokenRequest
    ) -> token_request_pb2.TokenRequest:
        self.requests.append(request)
        if self.failures:
            self.failures -= 1
            raise rpc_error(grpc.StatusCode.UNAVAILABLE, "apiserver restarting")
        answer = token_request_pb2.TokenRequest()
        answer.CopyFrom(request)
        answer.status.token = f"token-{len(self.requests)}"
        expires = datetime.fromtimestamp(NOW + self.lifetime, UTC)
        answer.status.expiration_timestamp = timeutil.format_time(expires)
        return answer


def source(core: FakeCore, name: str = "replicaset-controller") -> ServiceAccountTokenSource:
    return ServiceAccountTokenSource(
        cast(Client, core), "kube-system", name, clock=lambda: NOW, backoff=(0.0, 0.0, 0.0)
    )


async def test_a_missing_account_is_created_in_kube_system_then_a_token_requested() -> None:
    core = FakeCore()
    await core.namespaces.create(
        core_pb2.Namespace(metadata=meta_pb2.ObjectMeta(name="kube-system"))
    )
    tokens = source(core)
    await tokens.fetch()
    account = await core.serviceaccounts.get("replicaset-controller", "kube-system")
    assert account.metadata.uid
    [request] = core.requests
    assert (request.metadata.namespace, request.metadata.name) == (
        "kube-system",
        "replicaset-controller",
    )
    assert request.spec.expiration_seconds == 3600
    assert tokens.token() == "token-1"
    # Renewed with 20 % of its life left.
    assert tokens.refresh_at == NOW + 0.8 * 3600


async def test_an_existing_account_is_kept_and_a_missing_namespace_made() -> None:
    core = FakeCore()
    made = await get_or_create_service_account(cast(Client, core), "kube-system", "job-controller")
    assert (await core.namespaces.get("kube-system")).metadata.name == "kube-system"
    again = await get_or_create_service_account(cast(Client, core), "kube-system", "job-controller")
    assert again.metadata.uid == made.metadata.uid
    assert len((await core.serviceaccounts.list_all("kube-system"))[0]) == 1


async def test_a_short_lived_token_is_trusted_ten_minutes_as_clock_skew() -> None:
    core = FakeCore(lifetime=60.0)
    tokens = source(core)
    await tokens.fetch()
    assert tokens.refresh_at == NOW + 0.8 * MIN_LIFETIME


async def test_failed_requests_are_retried_with_back_off_then_reported() -> None:
    core = FakeCore()
    core.failures = 3
    tokens = source(core)
    await tokens.fetch()  # the fourth attempt succeeds
    assert tokens.token() == "token-4"
    core.failures = 4
    with pytest.raises(RuntimeError, match="failed to get token for kube-system/replicaset"):
        await tokens.fetch()
    assert tokens.token() == "token-4"  # the last good one still served


async def test_a_token_is_renewed_when_due_and_at_once_when_refused() -> None:
    core = FakeCore()
    clock = [NOW]
    tokens = ServiceAccountTokenSource(
        cast(Client, core), "kube-system", "deployment-controller", clock=lambda: clock[0]
    )
    await tokens.fetch()
    renewing = asyncio.create_task(tokens.run())
    try:
        await asyncio.sleep(0.05)
        assert tokens.token() == "token-1"  # not due for 48 minutes
        tokens.unauthorized()  # the apiserver answered 401

        async def renewed(token: str) -> None:
            while tokens.token() != token:
                await asyncio.sleep(0.01)

        async with asyncio.timeout(5):
            await renewed("token-2")
        # A token past its renewal time is replaced without being refused.
        renewing.cancel()
        clock[0] = tokens.refresh_at + 1
        renewing = asyncio.create_task(tokens.run())
        async with asyncio.timeout(5):
            await renewed("token-3")
    finally:
        renewing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await renewing


class _Call:
    def __init__(self, code: grpc.StatusCode) -> None:
        self._code = code

    async def code(self) -> grpc.StatusCode:
        return self._code


class _Refusals:
    def __init__(self) -> None:
        self.count = 0

    def token(self) -> str:
        return "t"

    def unauthorized(self) -> None:
        self.count += 1


@pytest.mark.parametrize(
    ("code", "told"), [(grpc.StatusCode.UNAUTHENTICATED, 1), (grpc.StatusCode.OK, 0)]
)
async def test_a_call_refused_as_unauthenticated_tells_the_token_source(
    code: grpc.StatusCode, told: int
) -> None:
    refusals = _Refusals()
    interceptor = _ReportUnauthenticated(refusals)

    async def continuation(details: object, request: object) -> Any:
        return _Call(code)

    await interceptor.intercept_unary_unary(continuation, cast(Any, None), object())
    assert refusals.count == told


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_pki(tmp_path_factory.mktemp("pki"))


async def test_each_account_has_one_client_with_its_token_and_not_the_managers_cert(
    pki: Path,
) -> None:
    core = FakeCore()
    root = cast(Client, core)
    core.target, core.timeout = "127.0.0.1:1", 5.0  # type: ignore[attr-defined]
    creds = Credentials(str(pki / "ca.crt"), str(pki / "admin.crt"), str(pki / "admin.key"))
    builder = ServiceAccountClientBuilder(root, creds, agent="kube-controller-manager/v1.31.0")
    try:
        client = await builder.client("node-controller")
        assert await builder.client("node-controller") is client  # nodelifecycle and nodeipam
        assert client.credentials is not None
        assert client.credentials.cert_file is None and client.credentials.key_file is None
        assert client.credentials.ca_file == creds.ca_file
        source = client.credentials.token_source
        assert source is builder.sources["node-controller"]
        assert source.token() == "token-1"
        other = await builder.client("job-controller")
        assert other is not client
        assert len(core.requests) == 2
    finally:
        await builder.close()


class _Builder:
    """Hands each account a distinct stand-in client, and records which accounts were asked."""

    def __init__(self) -> None:
        self.asked: list[str] = []
        self.closed = False

    async def client(self, name: str) -> Client:
        self.asked.append(name)
        return cast(Client, name)

    async def close(self) -> None:
        self.closed = True


async def test_each_controller_gets_its_accounts_client_and_the_informers_the_managers() -> None:
    built: dict[str, tuple[object, object]] = {}

    def factory(name: str) -> Any:
        def make(client: object, informers: object) -> object:
            built[name] = (client, informers)
            return object()

        return make

    root = cast(Client, object())
    builder = _Builder()
    manager = ControllerManager(
        root,
        {"replicaset": factory("replicaset"), "nodeipam": factory("nodeipam")},
        clients=builder,
        service_accounts=SERVICE_ACCOUNTS,
    )
    await manager.build()
    assert built["replicaset"][0] == "replicaset-controller"
    assert built["nodeipam"][0] == "node-controller"
    assert built["replicaset"][1] is manager.informers
    assert manager.informers.client is root


def test_every_controller_runs_as_an_account_the_bootstrap_policy_binds() -> None:
    assert set(SERVICE_ACCOUNTS) == set(CONTROLLERS)
    subjects = [s for b in bootstrap_policy.cluster_role_bindings() for s in b.subjects]
    subjects += [s for b in bootstrap_policy.role_bindings() for s in b.subjects]
    bound = {(s.namespace, s.name) for s in subjects if s.kind == "ServiceAccount"}
    for controller, account in SERVICE_ACCOUNTS.items():
        assert ("kube-system", account) in bound, controller


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ((), False),
        (("--use-service-account-credentials",), True),
        (("--use-service-account-credentials=true",), True),
        (("--use-service-account-credentials=false",), False),
    ],
)
def test_the_flag_is_off_by_default_as_kubernetes(
    pki: Path, argv: tuple[str, ...], expected: bool
) -> None:
    args = controller_main.parse_args(
        ["--server", "127.0.0.1:6443", "--ca-file", str(pki / "ca.crt"), *argv]
    )
    assert args.use_service_account_credentials is expected


def test_the_flag_is_refused_without_tls(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        controller_main.parse_args(
            ["--server", "127.0.0.1:6443", "--use-service-account-credentials"]
        )
    assert "--use-service-account-credentials: needs TLS" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (("--server", "apiserver:6443"), "apiserver:6444"),
        (("--server", "apiserver:6443", "--token-server", "lb:9442"), "lb:9442"),
    ],
)
def test_the_accounts_go_to_the_token_port(pki: Path, argv: tuple[str, ...], expected: str) -> None:
    """The gRPC door's main port asks for a client certificate; bearer tokens go to its token
    port (--token-port), by default on --server's host."""
    args = controller_main.parse_args(
        [*argv, "--ca-file", str(pki / "ca.crt"), "--use-service-account-credentials"]
    )
    assert args.token_server == expected
