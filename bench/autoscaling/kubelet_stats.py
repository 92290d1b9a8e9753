"""What a node's kubelet spends on its stats, with and without pods: its process's CPU at rest
over a window (podplane-bench idle's split of every compose container's CPU by process, which
also gives the metrics-server pod's), and the CPU time one call of each stats endpoint of the
kubelet API costs it (and the node's containerd, which answers its CRI stats calls): N calls in
a row through the apiserver's nodes/proxy, the delta of the process's utime + stime (read from
the host's /proc, so that no `docker exec` is counted) over N, raw and less what it spends at
rest over as long."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass

from bench.autoscaling.rest import Rest
from bench.cluster_idle import benchmark as idle
from bench.common import cpu
from bench.common.compose import containers
from bench.common.processes import cpu_seconds
from podplane.apimachinery.json_types import JSONObject

ENDPOINTS = ("stats/summary", "metrics/resource", "metrics/cadvisor")
KUBELET = "kubelet"
CONTAINERD = "containerd"
METRICS_SERVER = "pod: metricsserver"  # the add-on's process, as bench idle names it
WATCHED = (KUBELET, CONTAINERD)


@dataclass(frozen=True)
class Settings:
    project: str
    node: str
    pods: int
    calls: int
    seconds: float
    settle: float
    timeout: float


def node_pids(project: str, node: str) -> dict[str, int]:
    """The pids of the node container's own kubelet and containerd (not a pod's)."""
    container = next((c for c in containers(project) if c.service == node), None)
    if container is None:
        raise SystemExit(f"no container of the service {node!r} in the compose project {project}")
    found = {
        p.name: p.pid
        for p in cpu.processes().values()
        if p.containers == (container.id,) and p.name in WATCHED
    }
    if KUBELET not in found:
        raise SystemExit(f"no kubelet process in {node}'s container")
    return found


def at_rest(settings: Settings) -> JSONObject:
    """The kubelet's and containerd's share of a core on the node, the metrics-server process's
    (wherever it runs) and the node container's whole, over the window."""
    result = idle.measure(
        idle.Options(project=settings.project, settle=0, seconds=settings.seconds, out="")
    )
    services = result["services"]
    node = services[settings.node]
    where = [name for name, s in services.items() if METRICS_SERVER in s["processes"]]
    return {
        "seconds": result["seconds"],
        "node_cores": node["cores"],
        "cores": {name: node["processes"].get(name, 0.0) for name in WATCHED},
        "metrics_server_node": where[0] if where else None,
        "metrics_server_cores": services[where[0]]["processes"][METRICS_SERVER] if where else 0.0,
        "host_busy_cores": result["host_busy_cores"],
    }


def per_call(rest: Rest, settings: Settings, rest_cores: dict[str, float]) -> JSONObject:
    """For each endpoint: ms of CPU per call of the kubelet and containerd, raw and net of their
    rest rate, the wall time per call and the answer's size."""
    pids = node_pids(settings.project, settings.node)
    out: JSONObject = {}
    for endpoint in ENDPOINTS:
        path = f"/api/v1/nodes/{settings.node}/proxy/{endpoint}"
        rest.get_raw(path)  # a first call outside the count: connections, caches
        before = {name: cpu_seconds(pid) for name, pid in pids.items()}
        started = time.monotonic()
        size = 0
        for _ in range(settings.calls):
            size = len(rest.get_raw(path))
        wall = time.monotonic() - started
        figures: JSONObject = {"wall_ms_per_call": round(1000 * wall / settings.calls, 2)}
        figures["bytes"] = size
        for name, pid in pids.items():
            spent = cpu_seconds(pid) - before[name]
            net = spent - rest_cores.get(name, 0.0) * wall
            figures[f"{name}_ms_per_call"] = round(1000 * spent / settings.calls, 2)
            figures[f"{name}_net_ms_per_call"] = round(1000 * net / settings.calls, 2)
        out[endpoint] = figures
    return out


def _pod(node: str, i: int) -> JSONObject:
    return {
        "metadata": {"name": f"sleeper-{i}"},
        "spec": {
            "nodeName": node,
            "terminationGracePeriodSeconds": 0,
            "containers": [
                {
                    "name": "sleep",
                    "image": "busybox:latest",
                    "imagePullPolicy": "IfNotPresent",
                    "command": ["sleep", "3600"],
                    "resources": {"requests": {"cpu": "1m", "memory": "4Mi"}},
                }
            ],
        },
    }


def pods_on(rest: Rest, node: str) -> int:
    listed = rest.get(f"/api/v1/pods?fieldSelector=spec.nodeName%3D{node}")["items"]
    return sum(1 for p in listed if p.get("status", {}).get("phase") == "Running")


def _fill(rest: Rest, settings: Settings, ns: str) -> None:
    """settings.pods sleeping pods bound to the node, waited for Running."""
    # The namespace's default ServiceAccount (the controller-manager makes it) before its pods.
    deadline = time.monotonic() + settings.timeout
    while not rest.exists(f"/api/v1/namespaces/{ns}/serviceaccounts/default"):
        if time.monotonic() > deadline:
            raise TimeoutError(f"no default ServiceAccount in {ns}")
        time.sleep(0.5)
    for i in range(settings.pods):
        rest.create(f"/api/v1/namespaces/{ns}/pods", _pod(settings.node, i))
    while True:
        items = rest.get(f"/api/v1/namespaces/{ns}/pods")["items"]
        running = sum(1 for p in items if p.get("status", {}).get("phase") == "Running")
        if running >= settings.pods:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"{running}/{settings.pods} pods Running on {settings.node}")
        time.sleep(2.0)


def cell(rest: Rest, settings: Settings, extra_pods: int) -> JSONObject:
    print(
        f"kubelet on {settings.node}, {extra_pods} extra pods: {settings.seconds:.0f} s at rest, "
        f"then {settings.calls} calls of each endpoint ...",
        file=sys.stderr,
        flush=True,
    )
    resting = at_rest(settings)
    calls = per_call(rest, settings, resting["cores"])
    return {
        "extra_pods": extra_pods,
        "running_pods_on_node": pods_on(rest, settings.node),
        "at_rest": resting,
        "calls": calls,
    }


def measure(rest: Rest, settings: Settings) -> list[JSONObject]:
    """A cell without the benchmark's pods, then one with settings.pods more on the node."""
    cells = [cell(rest, settings, 0)]
    ns = rest.new_namespace("bench-kubelet-")
    try:
        print(f"{settings.pods} pods on {settings.node} in {ns} ...", file=sys.stderr, flush=True)
        _fill(rest, settings, ns)
        time.sleep(settings.settle)
        cells.append(cell(rest, settings, settings.pods))
    finally:
        rest.delete_namespace(ns)
    return cells


def report(cells: list[JSONObject]) -> str:
    rows = [
        "| pods Running on the node | kubelet at rest (% of a core) | containerd at rest | "
        "metrics-server at rest | "
        + " | ".join(f"/{e}: kubelet ms/call" for e in ENDPOINTS)
        + " |",
        "|---|---|---|---|" + "---|" * len(ENDPOINTS),
    ]
    for c in cells:
        resting = c["at_rest"]
        per = " | ".join(
            f"{c['calls'][e]['kubelet_ms_per_call']:.1f} "
            f"(containerd {c['calls'][e].get('containerd_ms_per_call', 0.0):.1f})"
            for e in ENDPOINTS
        )
        rows.append(
            f"| {c['running_pods_on_node']} ({c['extra_pods']} of the benchmark's) | "
            f"{resting['cores'][KUBELET] * 100:.2f} | {resting['cores'][CONTAINERD] * 100:.2f} | "
            f"{resting['metrics_server_cores'] * 100:.2f} | {per} |"
        )
    return "\n".join(rows)
