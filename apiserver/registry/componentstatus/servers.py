"""The servers ComponentStatus names (kube-apiserver's componentStatusStorage.serversToValidate):
scheduler, controller-manager, and etcd-0, etcd-1, ... for each etcd server the apiserver
uses, in the order of --etcd-servers."""

from __future__ import annotations

from collections.abc import Callable

import grpc

from apiserver.registry.componentstatus.validator import EtcdServer, HTTPServer, Server
from apiserver.storage.etcd import EtcdClient


def _member_status(endpoint: str, credentials: grpc.ChannelCredentials | None) -> EtcdServer:
    """One member of several: a client of its own for the probe, closed after it, as
    Kubernetes' CreateProber makes one per server (the apiserver's own balances over them)."""

    async def probe() -> None:
        client = EtcdClient([endpoint], credentials=credentials)
        try:
            await client.status()
        finally:
            await client.close()

    return EtcdServer(probe)


def component_servers(
    scheduler_url: str, controller_manager_url: str, etcd: EtcdClient
) -> Callable[[], dict[str, Server]]:
    """What each read of componentstatuses probes, by name. A single etcd server is probed
    through the apiserver's own etcd client."""
    servers: dict[str, Server] = {
        "scheduler": HTTPServer(scheduler_url),
        "controller-manager": HTTPServer(controller_manager_url),
    }
    if len(etcd.endpoints) == 1:
        servers["etcd-0"] = EtcdServer(etcd.status)
    else:
        for i, endpoint in enumerate(etcd.endpoints):
            servers[f"etcd-{i}"] = _member_status(endpoint, etcd.credentials)
    return lambda: servers
