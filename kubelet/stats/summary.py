"""The statsapi Summary (k8s.io/kubelet/pkg/apis/stats/v1alpha1, what /stats/summary answers and
metrics-server reads), built from the node's readings and the CRI's ContainerStats and
PodSandboxStats as the kubelet's CRI stats provider builds it. JSON as its Go types write it:
pointers marked omitempty are left out when unknown, times are metav1.Time (RFC 3339)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from kubelet.stats.cgroup import CgroupSample
from kubelet.stats.host import FsSample, InterfaceSample
from kubelet.stats.volumes import VolumeUsage
from podplane.api.cri import api_pb2 as cri
from podplane.apimachinery.json_types import JSONObject, JSONValue

DEFAULT_INTERFACE = "eth0"


def go_time(timestamp_ns: int) -> str:
    return datetime.fromtimestamp(timestamp_ns / 1e9, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _set(out: JSONObject, key: str, value: int | None) -> None:
    if value is not None:
        out[key] = value


def _value(message: cri.CpuUsage | cri.MemoryUsage, name: str) -> int | None:
    return getattr(message, name).value if message.HasField(name) else None


def cpu(timestamp_ns: int, usage_core_ns: int | None, nano_cores: int | None) -> JSONObject:
    out: JSONObject = {"time": go_time(timestamp_ns)}
    _set(out, "usageNanoCores", nano_cores)
    _set(out, "usageCoreNanoSeconds", usage_core_ns)
    return out


def memory(
    timestamp_ns: int,
    *,
    available: int | None = None,
    usage: int | None = None,
    working_set: int | None = None,
    rss: int | None = None,
    page_faults: int | None = None,
    major_page_faults: int | None = None,
) -> JSONObject:
    out: JSONObject = {"time": go_time(timestamp_ns)}
    for key, value in (
        ("availableBytes", available),
        ("usageBytes", usage),
        ("workingSetBytes", working_set),
        ("rssBytes", rss),
        ("pageFaults", page_faults),
        ("majorPageFaults", major_page_faults),
    ):
        _set(out, key, value)
    return out


def cri_memory(m: cri.MemoryUsage) -> JSONObject:
    return memory(
        m.timestamp,
        available=_value(m, "available_bytes"),
        usage=_value(m, "usage_bytes"),
        working_set=_value(m, "working_set_bytes"),
        rss=_value(m, "rss_bytes"),
        page_faults=_value(m, "page_faults"),
        major_page_faults=_value(m, "major_page_faults"),
    )


def fs(
    timestamp_ns: int,
    device: FsSample | None,
    used: int | None = None,
    inodes_used: int | None = None,
) -> JSONObject:
    """FsStats: the device's capacity and what is free on it, and what this user of it uses."""
    out: JSONObject = {"time": go_time(timestamp_ns)}
    if device is not None:
        out.update(
            availableBytes=device.available,
            capacityBytes=device.capacity,
            inodesFree=device.inodes_free,
            inodes=device.inodes,
        )
    _set(out, "usedBytes", used)
    _set(out, "inodesUsed", inodes_used)
    return out


def device_fs(timestamp_ns: int, device: FsSample) -> JSONObject:
    """The whole device's FsStats (the node's filesystem)."""
    return fs(timestamp_ns, device, device.used, device.inodes - device.inodes_free)


def network(timestamp_ns: int, interfaces: Sequence[InterfaceSample]) -> JSONObject | None:
    """NetworkStats: the default interface (eth0) inline, and every interface."""
    if not interfaces:
        return None

    def one(i: InterfaceSample) -> JSONObject:
        return {
            "name": i.name,
            "rxBytes": i.rx_bytes,
            "rxErrors": i.rx_errors,
            "txBytes": i.tx_bytes,
            "txErrors": i.tx_errors,
        }

    default = next((i for i in interfaces if i.name == DEFAULT_INTERFACE), None)
    out: JSONObject = {"time": go_time(timestamp_ns), **(one(default) if default else {})}
    out["interfaces"] = [one(i) for i in interfaces]
    return out


def cri_network(n: cri.NetworkUsage) -> JSONObject | None:
    found = [*([n.default_interface] if n.HasField("default_interface") else []), *n.interfaces]
    by_name = {
        i.name: InterfaceSample(
            i.name, i.rx_bytes.value, i.rx_errors.value, i.tx_bytes.value, i.tx_errors.value
        )
        for i in found
    }
    return network(n.timestamp, sorted(by_name.values(), key=lambda i: i.name))


@dataclass(frozen=True)
class ContainerInput:
    stats: cri.ContainerStats
    start_time: str
    nano_cores: int | None = None
    # The bytes and files of its log directory, if the runtime writes one.
    logs: tuple[int, int] | None = None


@dataclass(frozen=True)
class PodInput:
    name: str
    namespace: str
    uid: str
    start_time: str
    containers: Sequence[ContainerInput] = ()
    sandbox: cri.PodSandboxStats | None = None
    sandbox_nano_cores: int | None = None
    volumes: Sequence[VolumeUsage] = ()


def container(c: ContainerInput, image_fs: FsSample | None, root_fs: FsSample | None) -> JSONObject:
    s = c.stats
    out: JSONObject = {"name": s.attributes.metadata.name, "startTime": c.start_time}
    if s.HasField("cpu"):
        out["cpu"] = cpu(s.cpu.timestamp, _value(s.cpu, "usage_core_nano_seconds"), c.nano_cores)
    if s.HasField("memory"):
        out["memory"] = cri_memory(s.memory)
    if s.HasField("writable_layer"):
        layer = s.writable_layer
        out["rootfs"] = fs(
            layer.timestamp, image_fs, layer.used_bytes.value, layer.inodes_used.value
        )
    if c.logs is not None:
        out["logs"] = fs(s.cpu.timestamp or s.memory.timestamp, root_fs, *c.logs)
    return out


def _pod_cpu_memory(p: PodInput, containers: list[JSONObject]) -> JSONObject:
    """The sandbox's own figures when the runtime gives them (its cgroup), else the sum of its
    containers' (the kubelet's fallback)."""
    out: JSONObject = {}
    linux = p.sandbox.linux if p.sandbox is not None and p.sandbox.HasField("linux") else None
    if linux is not None and linux.HasField("cpu"):
        out["cpu"] = cpu(
            linux.cpu.timestamp,
            _value(linux.cpu, "usage_core_nano_seconds"),
            _value(linux.cpu, "usage_nano_cores") or p.sandbox_nano_cores,
        )
    elif containers and all("cpu" in c for c in containers):
        out["cpu"] = _summed(containers, "cpu", ("usageNanoCores", "usageCoreNanoSeconds"))
    if linux is not None and linux.HasField("memory"):
        out["memory"] = cri_memory(linux.memory)
    elif containers and all("memory" in c for c in containers):
        keys = ("usageBytes", "workingSetBytes", "rssBytes", "pageFaults", "majorPageFaults")
        out["memory"] = _summed(containers, "memory", keys)
    if linux is not None and linux.HasField("network"):
        net = cri_network(linux.network)
        if net is not None:
            out["network"] = net
    return out


def _summed(containers: list[JSONObject], part: str, keys: Sequence[str]) -> JSONObject:
    parts = [c[part] for c in containers if isinstance(c[part], dict)]
    out: JSONObject = {"time": max(str(p["time"]) for p in parts)}
    for key in keys:
        values = [p[key] for p in parts if isinstance(p.get(key), int)]
        if len(values) == len(parts):
            out[key] = sum(v for v in values if isinstance(v, int))
    return out


def volume(v: VolumeUsage) -> JSONObject:
    """statsapi.VolumeStats."""
    return {
        "time": go_time(v.timestamp_ns),
        "availableBytes": v.available_bytes,
        "capacityBytes": v.capacity_bytes,
        "usedBytes": v.used_bytes,
        "inodesFree": v.inodes_free,
        "inodes": v.inodes,
        "inodesUsed": v.inodes_used,
        "name": v.name,
    }


def _ephemeral_storage(
    containers: list[JSONObject], volumes: Sequence[VolumeUsage], root_fs: FsSample | None
) -> JSONObject:
    """The containers' writable layers and logs, and the pod's volumes (all ephemeral: the
    kubelet's own, calcEphemeralStorage's podManagedVolumes)."""
    used = inodes = 0
    times = ["0"]
    for v in volumes:
        used += v.used_bytes
        inodes += v.inodes_used
        times.append(go_time(v.timestamp_ns))
    for c in containers:
        for part in ("rootfs", "logs"):
            value: JSONValue = c.get(part)
            if isinstance(value, dict):
                used += int(value.get("usedBytes") or 0)
                inodes += int(value.get("inodesUsed") or 0)
                times.append(str(value["time"]))
    out = fs(0, root_fs, used, inodes)
    out["time"] = max(times)
    return out


def pod(p: PodInput, image_fs: FsSample | None, root_fs: FsSample | None) -> JSONObject:
    containers = [container(c, image_fs, root_fs) for c in p.containers]
    out: JSONObject = {
        "podRef": {"name": p.name, "namespace": p.namespace, "uid": p.uid},
        "startTime": p.start_time,
        "containers": containers,
    }
    out.update(_pod_cpu_memory(p, containers))
    if p.volumes:
        out["volume"] = [volume(v) for v in p.volumes]
    if containers:
        out["ephemeral-storage"] = _ephemeral_storage(containers, p.volumes, root_fs)
    linux = p.sandbox.linux if p.sandbox is not None else None
    if linux is not None and linux.HasField("process"):
        out["process_stats"] = {"process_count": linux.process.process_count.value}
    return out


@dataclass(frozen=True)
class NodeInput:
    name: str
    start_time: str
    cgroup: CgroupSample
    nano_cores: int | None = None
    root_fs: FsSample | None = None
    image_fs: FsSample | None = None
    # The image filesystem's use by the runtime's images (ImageFsInfo), when it says.
    images_used: tuple[int, int] | None = None
    interfaces: Sequence[InterfaceSample] = ()
    system_containers: Sequence[JSONObject] = field(default_factory=list)


def node(n: NodeInput) -> JSONObject:
    g, now = n.cgroup, n.cgroup.timestamp_ns
    out: JSONObject = {"nodeName": n.name}
    if n.system_containers:
        out["systemContainers"] = list(n.system_containers)
    out["startTime"] = n.start_time
    if g.cpu_usage_ns is not None:
        out["cpu"] = cpu(now, g.cpu_usage_ns, n.nano_cores)
    if g.memory_usage is not None:
        available = None
        if g.memory_limit is not None and g.memory_working_set is not None:
            available = max(g.memory_limit - g.memory_working_set, 0)
        out["memory"] = memory(
            now,
            available=available,
            usage=g.memory_usage,
            working_set=g.memory_working_set,
            rss=g.memory_rss,
            page_faults=g.page_faults,
            major_page_faults=g.major_page_faults,
        )
    net = network(now, n.interfaces)
    if net is not None:
        out["network"] = net
    if n.root_fs is not None:
        out["fs"] = device_fs(now, n.root_fs)
    if n.image_fs is not None or n.images_used is not None:
        used = n.images_used or (None, None)
        out["runtime"] = {"imageFs": fs(now, n.image_fs, used[0], used[1])}
    return out


def summary(n: NodeInput, pods: Sequence[PodInput]) -> JSONObject:
    return {
        "node": node(n),
        "pods": [pod(p, n.image_fs, n.root_fs) for p in pods],
    }
