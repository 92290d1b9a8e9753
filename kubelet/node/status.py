"""Node registration and the node status the kubelet works out every 10 s and posts when it
changed, or every 5 minutes (kubelet_node_status.go): capacity from the machine, addresses, the
kubelet endpoint, nodeInfo and the conditions."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field

from kubelet.node.machine_info import MachineInfo
from kubelet.node.pressure import NodeStats, Pressure, pressure, pressure_conditions
from kubelet.runtime.types import ImageInfo
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import quantity, timeutil
from podplane.apimachinery.kubelet_endpoints import GRPC_PORT_ANNOTATION
from podplane.client.clientset import ResourceClient, is_already_exists, is_conflict, is_not_found

log = logging.getLogger(__name__)
KUBELET_VERSION = "v1.31.0-podplane"
MAX_PODS = 110
# nodeStatusReportFrequency's default: an unchanged status is posted this often (seconds).
STATUS_REPORT_FREQUENCY = 300.0
# The kubelet's --node-status-max-images default, and names reported per image.
MAX_IMAGES = 50
MAX_NAMES_PER_IMAGE = 5
NO_PRESSURE = Pressure()  # the default of the builders below (frozen: one serves every call)
# Returns why the node is not ready (e.g. the runtime is down), or None when it is.
ReadinessCheck = Callable[[], str | None]
# Reads the node's memory, disk and process figures for the pressure conditions.
StatsReader = Callable[[], NodeStats]


@dataclass(frozen=True)
class NodeIdentity:
    name: str
    pod_cidr: str
    host_ip: str
    kubelet_port: int
    labels: Mapping[str, str] = field(default_factory=dict)
    # podplane's gRPC kubelet service, named in the Node's annotation (0: none advertised).
    grpc_port: int = 0

    def annotations(self) -> dict[str, str]:
        return {GRPC_PORT_ANNOTATION: str(self.grpc_port)} if self.grpc_port else {}


def capacity(machine: MachineInfo) -> dict[str, str]:
    result = {"cpu": str(machine.cpus), "memory": f"{machine.memory_kib}Ki", "pods": str(MAX_PODS)}
    if machine.ephemeral_storage_kib:
        result["ephemeral-storage"] = f"{machine.ephemeral_storage_kib}Ki"
    return result


def allocatable(
    capacity: Mapping[str, str], reservations: Sequence[Mapping[str, str]] = ()
) -> dict[str, str]:
    """Capacity minus what --kube-reserved and --system-reserved set aside, never below 0
    (Kubernetes' node allocatable, without the eviction thresholds)."""
    result = dict(capacity)
    for name, value in capacity.items():
        reserved = [r[name] for r in reservations if name in r]
        if not reserved:
            continue
        if name == "cpu":
            left = quantity.milli_cpu(value) - sum(quantity.milli_cpu(r) for r in reserved)
            result[name] = quantity.format_milli_cpu(max(left, 0))
        else:
            left = quantity.bytes_of(value) - sum(quantity.bytes_of(r) for r in reserved)
            result[name] = quantity.format_bytes(max(left, 0))
    return result


def node_conditions(
    previous: Sequence[core_pb2.NodeCondition],
    not_ready: str | None,
    now: str,
    under_pressure: Pressure = NO_PRESSURE,
) -> list[core_pb2.NodeCondition]:
    wanted = [
        *pressure_conditions(under_pressure),
        ("Ready", "True", "KubeletReady", "kubelet is posting ready status")
        if not_ready is None
        else ("Ready", "False", "KubeletNotReady", not_ready),
    ]
    old = {c.type: c for c in previous}
    result = []
    for type_, status, reason, message in wanted:
        before = old.get(type_)
        transition = (
            before.last_transition_time
            if before is not None and before.status == status and before.last_transition_time
            else now
        )
        result.append(
            core_pb2.NodeCondition(
                type=type_,
                status=status,
                reason=reason,
                message=message,
                last_heartbeat_time=now,
                last_transition_time=transition,
            )
        )
    return result


def node_labels(identity: NodeIdentity, machine: MachineInfo) -> dict[str, str]:
    return {
        **identity.labels,
        "kubernetes.io/hostname": identity.name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": machine.architecture,
    }


def node_images(
    images: Sequence[ImageInfo], max_images: int = MAX_IMAGES
) -> list[core_pb2.ContainerImage]:
    """The largest images first, each by its digests then its tags, as the kubelet's Images
    setter reports them (nodestatus.Images: 50 images, 5 names each)."""
    result = []
    for image in sorted(images, key=lambda i: i.size, reverse=True):
        names = [n for n in (*image.repo_digests, *image.repo_tags) if "<none>" not in n]
        if names:  # a dangling image no pod can name
            result.append(
                core_pb2.ContainerImage(names=names[:MAX_NAMES_PER_IMAGE], size_bytes=image.size)
            )
    return result[:max_images]


def build_node(
    identity: NodeIdentity,
    machine: MachineInfo,
    runtime_version: str,
    not_ready: str | None,
    now: str,
    previous: core_pb2.Node | None = None,
    under_pressure: Pressure = NO_PRESSURE,
    reservations: Sequence[Mapping[str, str]] = (),
    images: Sequence[core_pb2.ContainerImage] = (),
) -> core_pb2.Node:
    node = core_pb2.Node(
        api_version="v1",
        kind="Node",
        metadata=meta_pb2.ObjectMeta(
            name=identity.name,
            labels=node_labels(identity, machine),
            annotations=identity.annotations(),
        ),
        spec=core_pb2.NodeSpec(pod_cidr=identity.pod_cidr, pod_cidrs=[identity.pod_cidr]),
    )
    status = node.status
    status.capacity.update(capacity(machine))
    status.allocatable.update(allocatable(capacity(machine), reservations))
    status.addresses.add(type="InternalIP", address=identity.host_ip)
    status.addresses.add(type="Hostname", address=machine.hostname)
    status.daemon_endpoints.kubelet_endpoint.port = identity.kubelet_port
    status.node_info.CopyFrom(
        core_pb2.NodeSystemInfo(
            machine_id=machine.machine_id,
            system_uuid=machine.system_uuid,
            boot_id=machine.boot_id,
            kernel_version=machine.kernel_version,
            os_image=machine.os_image,
            container_runtime_version=runtime_version,
            kubelet_version=KUBELET_VERSION,
            operating_system="linux",
            architecture=machine.architecture,
        )
    )
    old_conditions = previous.status.conditions if previous is not None else []
    status.conditions.extend(node_conditions(old_conditions, not_ready, now, under_pressure))
    status.images.extend(images)
    return node


def unchanged(stored: core_pb2.NodeStatus, desired: core_pb2.NodeStatus) -> bool:
    """Whether the status says the same but for its conditions' heartbeat times (kubelet
    nodeStatusHasChanged)."""
    a, b = core_pb2.NodeStatus(), core_pb2.NodeStatus()
    a.CopyFrom(stored)
    b.CopyFrom(desired)
    for status in (a, b):
        for c in status.conditions:
            c.last_heartbeat_time = ""
    return a == b


class NodeStatusReporter:
    """Registers the Node and keeps its status, as the kubelet's node status loop does: worked
    out every period (--node-status-update-frequency, 10 s) and posted when it changed or every
    report_frequency (nodeStatusReportFrequency, 5 minutes); in between, the node's Lease in
    kube-node-lease says it is alive (kubelet/node/lease.py)."""

    def __init__(
        self,
        nodes: ResourceClient[core_pb2.Node],
        identity: NodeIdentity,
        machine: MachineInfo,
        runtime_version: str,
        readiness: ReadinessCheck = lambda: None,
        period: float = 10.0,
        stats: StatsReader = NodeStats,
        reservations: Sequence[Mapping[str, str]] = (),
        images: Callable[[], Awaitable[Sequence[ImageInfo]]] | None = None,
        report_frequency: float = STATUS_REPORT_FREQUENCY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._nodes = nodes
        self.identity = identity
        self.machine = machine
        self.runtime_version = runtime_version
        self.readiness = readiness
        self.period = period
        self.stats = stats
        self.reservations = reservations
        self._list_images = images
        self._images: list[core_pb2.ContainerImage] = []
        self.node: core_pb2.Node | None = None
        self.report_frequency = report_frequency
        self._clock = clock
        self._reported_at = -math.inf

    def _desired(self) -> core_pb2.Node:
        return build_node(
            self.identity,
            self.machine,
            self.runtime_version,
            self.readiness(),
            timeutil.now(),
            self.node,
            pressure(self.stats()),
            self.reservations,
            self._images,
        )

    async def register(self) -> core_pb2.Node:
        """Creates the Node, or brings an existing one (a restarted kubelet) up to date."""
        desired = self._desired()
        try:
            node = await self._nodes.create(desired)
            log.info("registered node %s", self.identity.name)
        except Exception as e:
            if not is_already_exists(e):
                raise
            node = await self._nodes.get(self.identity.name)
            node.metadata.labels.update(desired.metadata.labels)
            node.metadata.annotations.update(desired.metadata.annotations)
            node.spec.pod_cidr = desired.spec.pod_cidr
            del node.spec.pod_cidrs[:]
            node.spec.pod_cidrs.extend(desired.spec.pod_cidrs)
            node = await self._nodes.update(node)
            log.info("node %s was registered before; updated it", self.identity.name)
        self.node = node
        await self.update_status()
        return self.node

    async def register_until_done(self) -> core_pb2.Node:
        delay = 0.5
        while True:
            try:
                return await self.register()
            except Exception as e:  # noqa: BLE001 - retried with back-off
                if not is_conflict(e):
                    log.warning(
                        "registering node %s failed: %s; retrying in %.1fs",
                        self.identity.name,
                        e,
                        delay,
                    )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 7.0)

    async def update_status(self) -> None:
        if self._list_images is not None:
            try:
                self._images = node_images(await self._list_images())
            except Exception as e:  # noqa: BLE001 - the last list stands; the status still goes
                log.warning("listing images failed: %s", e)
        if self.node is None:
            await self.register()
            return
        try:
            # As the apiserver's cache holds it (the kubelet's first try, FromApiserverCache):
            # the node lifecycle controller may have marked it Unknown since. The update below
            # overwrites whatever version is stored, so a cache a moment behind loses nothing.
            self.node = await self._nodes.get(self.identity.name, resource_version="0")
            status = self._desired().status
            if (
                unchanged(self.node.status, status)
                and self._clock() - self._reported_at < self.report_frequency
            ):
                return
            update = core_pb2.Node()
            update.CopyFrom(self.node)
            update.metadata.resource_version = ""
            update.status.CopyFrom(status)
            self.node = await self._nodes.update_status(update)
            self._reported_at = self._clock()
        except Exception as e:
            if not is_not_found(e):
                raise
            log.warning("node %s was deleted; registering it again", self.identity.name)
            self.node = None
            await self.register()

    async def run(self) -> None:
        """Works out the node status every period, and posts it when it changed or when
        report_frequency has passed since the last post, until cancelled."""
        while True:
            await asyncio.sleep(self.period)
            try:
                await self.update_status()
            except Exception as e:  # noqa: BLE001 - tried again next period
                log.warning("updating node %s status failed: %s", self.identity.name, e)
