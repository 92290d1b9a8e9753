"""A real etcd process and the real apiserver on a loopback port: the shared fixtures' cluster
(conftest.py), and the cluster of their own that scheduler and overload tests start, whose
decisions and messages objects other modules leave behind would otherwise change."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import AsyncIterator, Iterator
from typing import Any

from prometheus_client import REGISTRY

from apiserver.admission import service_account
from apiserver.server import APIServer
from tests.support import EtcdProcess

# As Kubernetes' integration tests run their apiservers: without ServiceAccount admission, which
# refuses every pod whose namespace has no `default` account, and no controller-manager makes
# those here. The tests of pods with service account tokens turn it back on.
TEST_DISABLED_ADMISSION_PLUGINS = frozenset({service_account.NAME})


@contextlib.contextmanager
def etcd_process() -> Iterator[EtcdProcess]:
    process = EtcdProcess.start()
    try:
        yield process
    finally:
        process.stop()


@contextlib.contextmanager
def paused(etcd: EtcdProcess) -> Iterator[None]:
    """etcd stopped (SIGSTOP) for the block: writes to it wait, so requests stay in flight."""
    etcd.process.send_signal(signal.SIGSTOP)
    try:
        yield
    finally:
        etcd.process.send_signal(signal.SIGCONT)


@contextlib.asynccontextmanager
async def running_apiserver(
    etcd: EtcdProcess, address: str = "127.0.0.1:0", **options: Any
) -> AsyncIterator[APIServer]:
    """The real apiserver on a loopback port (a free one by default), over `etcd`, with its REST
    door on another free port; `options` are APIServer's (watch_cache, compaction_interval)."""
    options.setdefault("rest_address", "127.0.0.1:0")
    options.setdefault("disable_admission_plugins", TEST_DISABLED_ADMISSION_PLUGINS)
    server = APIServer([etcd.endpoint], address, **options)
    await server.start(etcd_timeout=20)
    try:
        yield server
    finally:
        await server.stop(0)


def mutating_requests_in_flight() -> float:
    """The writes the apiserver of this process is handling now
    (apiserver_current_inflight_requests{request_kind="mutating"})."""
    return (
        REGISTRY.get_sample_value(
            "apiserver_current_inflight_requests", {"request_kind": "mutating"}
        )
        or 0.0
    )
