"""python -m adm wait-cluster: until the cluster is usable as its users see it, the way `kubeadm
init` waits for its control plane: --nodes Nodes Ready, the DaemonSet kube-system/kube-proxy ready
on each of them, and the Deployment kube-system/coredns available. Each condition is followed
through a watch (an informer), none is polled; a line per stage says when it held, in seconds since
`started`.

The cluster DNS answering a query is the caller's last stage (scripts/wait-cluster.sh asks a node:
the Service's IP is only reachable from inside the cluster)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from google.protobuf.message import Message

from podplane.api.apps.v1 import apps_pb2
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery.conditions import node_is_ready
from podplane.client.clientset import Client
from podplane.client.informer import Informer
from podplane.client.resource_client import ResourceClient

T = TypeVar("T", bound=Message)


class NotReady(Exception):
    """A stage did not hold by the deadline; the message says what was there."""


@dataclass(frozen=True)
class Stage(Generic[T]):
    """A condition over the objects of one list/watch."""

    what: str
    resource: Callable[[Client], ResourceClient[T]]
    holds: Callable[[list[T]], bool]
    shows: Callable[[list[T]], str]  # what there is, for the message when it does not hold
    namespace: str = ""
    field_selector: str = ""


def nodes_ready(want: int) -> Stage[core_pb2.Node]:
    def ready(nodes: list[core_pb2.Node]) -> list[str]:
        return sorted(n.metadata.name for n in nodes if node_is_ready(n))

    return Stage(
        what=f"{want} nodes Ready",
        resource=lambda c: c.nodes,
        holds=lambda nodes: len(ready(nodes)) >= want,
        shows=lambda nodes: f"{len(ready(nodes))}/{want} Ready ({', '.join(ready(nodes))})",
    )


def daemonset_ready(namespace: str, name: str, nodes: int) -> Stage[apps_pb2.DaemonSet]:
    """Its pod scheduled and ready on `nodes` nodes, for its current generation (as `kubectl
    rollout status` reads a DaemonSet)."""

    def holds(found: list[apps_pb2.DaemonSet]) -> bool:
        return any(
            ds.status.observed_generation >= ds.metadata.generation
            and ds.status.desired_number_scheduled >= nodes
            and ds.status.number_ready == ds.status.desired_number_scheduled
            and ds.status.updated_number_scheduled == ds.status.desired_number_scheduled
            for ds in found
        )

    def shows(found: list[apps_pb2.DaemonSet]) -> str:
        if not found:
            return "not created yet"
        s = found[0].status
        return f"{s.number_ready} ready of {s.desired_number_scheduled} desired"

    return Stage(
        what=f"DaemonSet {namespace}/{name} ready on {nodes} nodes",
        resource=lambda c: c.daemonsets,
        holds=holds,
        shows=shows,
        namespace=namespace,
        field_selector=f"metadata.name={name}",
    )


def deployment_available(namespace: str, name: str) -> Stage[apps_pb2.Deployment]:
    """Every replica of its current generation available (`kubectl rollout status`)."""

    def holds(found: list[apps_pb2.Deployment]) -> bool:
        return any(
            d.status.observed_generation >= d.metadata.generation
            and d.status.updated_replicas == d.spec.replicas
            and d.status.available_replicas == d.spec.replicas
            and d.status.replicas == d.spec.replicas
            for d in found
        )

    def shows(found: list[apps_pb2.Deployment]) -> str:
        if not found:
            return "not created yet"
        d = found[0]
        return f"{d.status.available_replicas}/{d.spec.replicas} available"

    return Stage(
        what=f"Deployment {namespace}/{name} available",
        resource=lambda c: c.deployments,
        holds=holds,
        shows=shows,
        namespace=namespace,
        field_selector=f"metadata.name={name}",
    )


def cluster_stages(nodes: int) -> list[Stage[Any]]:
    """What `make up` waits for: the nodes, then the add-ons the addon-manager applies
    (docker/addons)."""
    return [
        nodes_ready(nodes),
        daemonset_ready("kube-system", "kube-proxy", nodes),
        deployment_available("kube-system", "coredns"),
    ]


async def until(client: Client, stage: Stage[T], timeout: float) -> None:
    """Returns once `stage` holds over its informer's cache; NotReady after `timeout` s."""
    informer: Informer[T] = Informer(
        stage.resource(client), namespace=stage.namespace, field_selector=stage.field_selector
    )
    held = asyncio.Event()

    def check(*_: object) -> None:
        if stage.holds(informer.list()):
            held.set()

    informer.add_handler(check, check, check)
    task = asyncio.create_task(informer.run(), name=f"wait-{informer.name}")
    try:
        async with asyncio.timeout(timeout):
            await held.wait()
    except TimeoutError:
        raise NotReady(f"{stage.what}: {stage.shows(informer.list())}") from None
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def wait_cluster(
    client: Client,
    stages: list[Stage[Any]],
    deadline: float,
    started: float,
    say: Callable[[str], None],
) -> None:
    """Each stage in turn, all by `deadline` (time.time()); says when each held."""
    for stage in stages:
        await until(client, stage, max(deadline - time.time(), 0.0))
        say(f"{stage.what} ({time.time() - started:.1f} s)")
