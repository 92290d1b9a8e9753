"""The HorizontalPodAutoscaler's reaction time: a Deployment of one busybox pod that idles until
told to burn (requests cpu 50m, limits 100m) under an autoscaling/v2 HPA at 50 % cpu Utilization
(min 1, max 3), in a namespace of its own. Once the HPA's status shows a low current
utilization, `kubectl exec` starts the load, and three moments are recorded from then, as a
client polling the REST door every --poll seconds sees them: the metrics API's PodMetrics first
above half the request, the HPA's status.desiredReplicas first above 1, the Deployment's
spec.replicas raised. The HPA's status has just been written when it is first seen low, so the
load starts a random part of the controller's 15 s sync period after that: a start right after
each sync would make every run wait a whole period for the next one."""

from __future__ import annotations

import datetime
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from bench.autoscaling.rest import Rest
from podplane.apimachinery.json_types import JSONObject

NAME = "burner"
REQUEST_MILLICORES = 50
TARGET_PERCENT = 50
# Idles (a sleep a second) until /tmp/burn exists, then burns its limit: 200 % of its request.
COMMAND = "while [ ! -e /tmp/burn ]; do sleep 1; done; while :; do :; done"
HPA_SYNC_PERIOD = 15.0  # the controller-manager's --horizontal-pod-autoscaler-sync-period
MOMENTS = ("metrics_above_s", "hpa_desired_s", "scaled_s")


def deployment() -> JSONObject:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": NAME},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": NAME}},
            "template": {
                "metadata": {"labels": {"app": NAME}},
                "spec": {
                    "terminationGracePeriodSeconds": 0,
                    "containers": [
                        {
                            "name": "burn",
                            "image": "busybox:latest",
                            "imagePullPolicy": "IfNotPresent",
                            "command": ["sh", "-c", COMMAND],
                            "resources": {
                                "requests": {"cpu": f"{REQUEST_MILLICORES}m"},
                                "limits": {"cpu": f"{2 * REQUEST_MILLICORES}m"},
                            },
                        }
                    ],
                },
            },
        },
    }


def autoscaler() -> JSONObject:
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": NAME},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": NAME},
            "minReplicas": 1,
            "maxReplicas": 3,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": TARGET_PERCENT},
                    },
                }
            ],
        },
    }


def millicores(quantity: str) -> float:
    """A CPU quantity as the metrics API writes it ("1562923n", "12m", "1") in millicores."""
    units = {"n": 1e-6, "u": 1e-3, "m": 1.0}
    if quantity[-1:] in units:
        return float(quantity[:-1]) * units[quantity[-1]]
    return float(quantity) * 1000


def current_utilization(hpa: JSONObject) -> int | None:
    for metric in hpa.get("status", {}).get("currentMetrics") or []:
        current = metric.get("resource", {}).get("current", {})
        if "averageUtilization" in current:
            return int(current["averageUtilization"])
    return None


@dataclass
class Run:
    namespace: str
    pod: str = ""
    utilization_before: int | None = None  # the HPA's, when the load started
    delay_s: float = 0.0  # from the HPA's low status seen to the load's start
    exec_s: float = 0.0  # how long `kubectl exec touch` took (the load starts within it)
    # Seconds from the exec's return to each moment (None: not within the timeout).
    metrics_above_s: float | None = None
    hpa_desired_s: float | None = None
    scaled_s: float | None = None
    metrics_millicores: float = 0.0  # the first PodMetrics above half the request
    metrics_window: str = ""
    # When the kubelet read that point (the PodMetrics' timestamp), from the exec's return.
    metrics_point_s: float | None = None
    desired_replicas: int = 0
    errors: list[str] = field(default_factory=list)


def _poll_until(what: str, timeout: float, check: Callable[[], bool]) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout:.0f} s")
        time.sleep(1.0)


def _running_pod(rest: Rest, ns: str) -> str:
    pods = rest.get(f"/api/v1/namespaces/{ns}/pods?labelSelector=app%3D{NAME}")["items"]
    running = [p for p in pods if p.get("status", {}).get("phase") == "Running"]
    return str(running[0]["metadata"]["name"]) if running else ""


def measure_run(rest: Rest, ns: str, poll: float, timeout: float) -> Run:
    run = Run(ns)
    rest.create(f"/apis/apps/v1/namespaces/{ns}/deployments", deployment())
    rest.create(f"/apis/autoscaling/v2/namespaces/{ns}/horizontalpodautoscalers", autoscaler())
    hpa_path = f"/apis/autoscaling/v2/namespaces/{ns}/horizontalpodautoscalers/{NAME}"

    def pod_running() -> bool:
        run.pod = _running_pod(rest, ns)
        return bool(run.pod)

    def steady_and_low() -> bool:
        run.utilization_before = current_utilization(rest.get(hpa_path))
        return run.utilization_before is not None and run.utilization_before < TARGET_PERCENT

    _poll_until("the burner pod Running", timeout, pod_running)
    _poll_until("the HPA showing a low utilization", timeout, steady_and_low)

    run.delay_s = round(random.uniform(0.0, HPA_SYNC_PERIOD), 2)
    time.sleep(run.delay_s)
    before = time.monotonic()
    rest.kubectl("-n", ns, "exec", run.pod, "--", "touch", "/tmp/burn")
    start, start_wall = time.monotonic(), time.time()
    run.exec_s = round(start - before, 3)
    metrics_path = f"/apis/metrics.k8s.io/v1beta1/namespaces/{ns}/pods/{run.pod}"
    deployment_path = f"/apis/apps/v1/namespaces/{ns}/deployments/{NAME}"
    while any(getattr(run, m) is None for m in MOMENTS):
        polled = time.monotonic()
        if polled - start > timeout:
            run.errors.append(f"not every moment within {timeout:.0f} s")
            break
        at = round(polled - start, 2)
        if run.metrics_above_s is None:
            metrics = rest.get(metrics_path)
            usage = sum(millicores(c["usage"]["cpu"]) for c in metrics["containers"])
            if usage > REQUEST_MILLICORES * TARGET_PERCENT / 100:
                run.metrics_above_s, run.metrics_millicores = at, round(usage, 1)
                run.metrics_window = str(metrics.get("window", ""))
                point = datetime.datetime.fromisoformat(metrics["timestamp"]).timestamp()
                run.metrics_point_s = round(point - start_wall, 2)
        if run.hpa_desired_s is None:
            desired = int(rest.get(hpa_path).get("status", {}).get("desiredReplicas") or 0)
            if desired > 1:
                run.hpa_desired_s, run.desired_replicas = at, desired
        if run.scaled_s is None and int(rest.get(deployment_path)["spec"]["replicas"]) > 1:
            run.scaled_s = at
        time.sleep(max(0.0, poll - (time.monotonic() - polled)))
    return run


def measure(rest: Rest, runs: int, poll: float, timeout: float) -> list[Run]:
    done = []
    for i in range(runs):
        ns = rest.new_namespace("bench-hpa-")
        print(f"HPA reaction, run {i + 1}/{runs} in {ns} ...", file=sys.stderr, flush=True)
        try:
            done.append(measure_run(rest, ns, poll, timeout))
        except (TimeoutError, RuntimeError) as e:
            done.append(Run(ns, errors=[str(e)]))
        finally:
            rest.delete_namespace(ns)
        print(f"  {asdict(done[-1])}", file=sys.stderr, flush=True)
    return done


def summary(runs: list[Run]) -> JSONObject:
    """Each moment's median and maximum over the runs that reached it."""
    out: JSONObject = {}
    for moment in MOMENTS:
        values = [v for v in (getattr(r, moment) for r in runs) if v is not None]
        if values:
            out[moment] = {
                "median": round(statistics.median(values), 2),
                "max": round(max(values), 2),
                "runs": len(values),
            }
    return out


def report(result: JSONObject) -> str:
    rows = [
        "| run | HPA utilization before | metrics API above 50 % (s) | HPA desiredReplicas > 1 "
        "(s) | Deployment scaled (s) |",
        "|---|---|---|---|---|",
    ]

    def shown(value: float | None) -> str:
        return "-" if value is None else f"{value:.1f}"

    for i, run in enumerate(result["runs"], 1):
        rows.append(
            f"| {i} | {run['utilization_before']} % | {shown(run['metrics_above_s'])} | "
            f"{shown(run['hpa_desired_s'])} (wants {run['desired_replicas']}) | "
            f"{shown(run['scaled_s'])} |"
        )
    for label in ("median", "max"):
        cells = [result["summary"].get(m, {}).get(label) for m in MOMENTS]
        rows.append(f"| {label} | | " + " | ".join(shown(c) for c in cells) + " |")
    return "\n".join(rows)
