"""The Non-terminated Pods and Allocated resources sections of `describe node`: each pod's requests
and limits against what the node can allocate."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from podctl.describe.common import age
from podctl.describe.writer import LEVEL_0, LEVEL_1, PrefixWriter
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import pod_resources, quantity

_STANDARD = ("cpu", "memory", "ephemeral-storage", "pods")


def _format(name: str, amount: int) -> str:
    return quantity.format_milli_cpu(amount) if name == "cpu" else quantity.format_bytes(amount)


def pod_totals(pod: core_pb2.Pod, which: str) -> dict[str, int]:
    """A pod's requests or limits: its app containers' and sidecars' sum, or what initialization
    needs at its peak if that is larger (kubectl's resourcehelper.PodRequestsAndLimits)."""
    if which == "limits":
        return pod_resources.pod_limits(pod)
    return pod_resources.pod_requests(pod)


def _percent(amount: int, allocatable: int) -> int:
    return int(amount / allocatable * 100) if allocatable else 0


def write_node_resources(
    w: PrefixWriter, node: core_pb2.Node, pods: Sequence[core_pb2.Pod], now: datetime
) -> None:
    allocatable_raw: Mapping[str, str] = node.status.allocatable or node.status.capacity
    allocatable = pod_resources.amounts(allocatable_raw)
    w.write(LEVEL_0, f"Non-terminated Pods:\t({len(pods)} in total)\n")
    w.write(
        LEVEL_1,
        "Namespace\tName\t\tCPU Requests\tCPU Limits\tMemory Requests\tMemory Limits\tAge\n",
    )
    w.write(
        LEVEL_1,
        "---------\t----\t\t------------\t----------\t---------------\t-------------\t---\n",
    )
    requests: dict[str, int] = {}
    limits: dict[str, int] = {}
    for pod in pods:
        req, lim = pod_totals(pod, "requests"), pod_totals(pod, "limits")
        for totals, values in ((requests, req), (limits, lim)):
            for name, amount in values.items():
                totals[name] = totals.get(name, 0) + amount
        cells = [pod.metadata.namespace, pod.metadata.name, ""]
        for name, values in (("cpu", req), ("cpu", lim), ("memory", req), ("memory", lim)):
            amount = values.get(name, 0)
            cells.append(f"{_format(name, amount)} ({_percent(amount, allocatable.get(name, 0))}%)")
        cells.append(age(pod.metadata.creation_timestamp, now))
        w.write(LEVEL_1, "\t".join(cells) + "\n")

    w.write(
        LEVEL_0,
        "Allocated resources:\n  (Total limits may be over 100 percent, i.e., overcommitted.)\n",
    )
    w.write(LEVEL_1, "Resource\tRequests\tLimits\n")
    w.write(LEVEL_1, "--------\t--------\t------\n")
    hugepages = sorted(k for k in allocatable if k.startswith("hugepages-"))
    for name in ["cpu", "memory", "ephemeral-storage", *hugepages]:
        used, cap, alloc = requests.get(name, 0), limits.get(name, 0), allocatable.get(name, 0)
        w.write(
            LEVEL_1,
            f"{name}\t{_format(name, used)} ({_percent(used, alloc)}%)\t"
            f"{_format(name, cap)} ({_percent(cap, alloc)}%)\n",
        )
    extended = sorted(
        k for k in allocatable if k not in _STANDARD and not k.startswith("hugepages-")
    )
    for name in extended:
        w.write(
            LEVEL_1,
            f"{name}\t{_format(name, requests.get(name, 0))}\t"
            f"{_format(name, limits.get(name, 0))}\n",
        )
