"""Which pod and container a verb reads (logs, exec): a pod named directly or the best pod of a
job, deployment, replica set or replication controller, picked as kubectl picks it
(polymorphichelpers' GetFirstPod and podutils.ByLogging), and the container kubectl defaults to."""

from __future__ import annotations

import asyncio

from podctl.errors import CommandError
from podctl.resource.targets import resource_named
from podctl.workloads.owners import Workload, label_query
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import resources
from podplane.apimachinery.resources import Resource
from podplane.apimachinery.sidecars import sidecar_names
from podplane.client.clientset import Client

DEFAULT_CONTAINER_ANNOTATION = "kubectl.kubernetes.io/default-container"
POLL_SECONDS = 0.5
# The kinds whose pods `logs TYPE/NAME` reads, through their selector (kubectl's
# SelectorsForObject).
OWNER_KINDS = (
    resources.JOB,
    resources.DEPLOYMENT,
    resources.REPLICA_SET,
    resources.REPLICATION_CONTROLLER,
)
_PHASE_ORDER = {"Running": 0, "Unknown": 1, "Pending": 2}  # any other phase ranks with Running


def parse_target(arg: str) -> tuple[Resource, str]:
    """`jumpod`, `pod/jumpod`, or an owner of pods: `job/NAME`, `deploy/NAME`, `rs/NAME`,
    `rc/NAME`."""
    kind, sep, name = arg.partition("/")
    if not sep:
        return resources.POD, arg
    if not name:
        raise CommandError(f"error: arguments in resource/name form must have a name: {arg!r}")
    resource = resource_named(kind)
    if resource is not resources.POD and resource not in OWNER_KINDS:
        raise CommandError(
            f"error: cannot get the logs from {resource.kind}: selector for "
            f"{resource.kind} not implemented"
        )
    return resource, name


def _ready_since(pod: core_pb2.Pod) -> str | None:
    for c in pod.status.conditions:
        if c.type == "Ready" and c.status == "True":
            return str(c.last_transition_time)
    return None


def _earlier_first(timestamp: str | None) -> tuple[int, str]:
    # An unknown time sorts last (afterOrZero).
    return (1, "") if not timestamp else (0, timestamp)


def logging_order(
    pod: core_pb2.Pod,
) -> tuple[bool, int, bool, tuple[int, str], int, int, tuple[int, str]]:
    """kubectl's podutils.ByLogging: scheduled pods, Running (or finished) before Unknown before
    Pending, ready ones, ready the longest, most restarts (of app containers, then of sidecars),
    oldest."""
    ready = _ready_since(pod)
    sidecars = sidecar_names(pod.spec)
    return (
        not pod.spec.node_name,
        _PHASE_ORDER.get(pod.status.phase, 0),
        ready is None,
        _earlier_first(ready),
        -max((c.restart_count for c in pod.status.container_statuses), default=0),
        -max(
            (c.restart_count for c in pod.status.init_container_statuses if c.name in sidecars),
            default=0,
        ),
        _earlier_first(pod.metadata.creation_timestamp),
    )


async def first_pod(
    client: Client, resource: Resource, name: str, namespace: str, timeout: float
) -> tuple[core_pb2.Pod, int]:
    """The pod to read for an owner (GetFirstPod): the best of its selector's pods, waiting up
    to `timeout` for one to appear. Returns (pod, how many there were)."""
    owner: Workload = await client.for_resource(resource).get(name, namespace)
    selector = label_query(owner)
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        pods, _ = await client.pods.list_all(namespace, label_selector=selector)
        if pods:
            return sorted(pods, key=logging_order)[0], len(pods)
        if asyncio.get_running_loop().time() >= deadline:
            raise CommandError("error: timed out waiting for the condition")
        await asyncio.sleep(POLL_SECONDS)


def choose_container(pod: core_pb2.Pod, requested: str) -> tuple[str, str]:
    """(container, a note for stderr when one was picked for the user), as kubectl defaults it."""
    names = [c.name for c in pod.spec.containers]
    init_names = [c.name for c in pod.spec.init_containers]
    ephemeral_names = [c.name for c in pod.spec.ephemeral_containers]
    if requested:
        if requested not in (*names, *init_names, *ephemeral_names):
            raise CommandError(
                f"error: container {requested} is not valid for pod {pod.metadata.name}"
            )
        return requested, ""
    default = pod.metadata.annotations.get(DEFAULT_CONTAINER_ANNOTATION, "")
    if default in names:
        return default, ""
    if not names:
        raise CommandError(f"error: pod {pod.metadata.name} has no containers")
    if len(names) == 1:
        return names[0], ""
    return names[0], f'Defaulted container "{names[0]}" out of: {", ".join(names + init_names)}'
