"""metrics.k8s.io/v1beta1's objects as metrics-server writes them (k8s.io/metrics'
NodeMetrics, PodMetrics and their lists): the object's name, namespace and labels (the node's or
pod's own), a creationTimestamp of now, the usage's `timestamp` and `window` (a Go duration),
and `usage` with CPU in nanocores and memory in bytes, written as Kubernetes quantities."""

from __future__ import annotations

import datetime
from collections.abc import Mapping

from metricsserver.storage import Usage
from podplane.apimachinery.json_types import JSONObject

GROUP, VERSION = "metrics.k8s.io", "v1beta1"
API_VERSION = f"{GROUP}/{VERSION}"
_DECIMAL_SUFFIXES = {-9: "n", -6: "u", -3: "m", 0: "", 3: "k", 6: "M", 9: "G", 12: "T", 15: "P"}
_BINARY_SUFFIXES = ("Ei", "Pi", "Ti", "Gi", "Mi", "Ki")


def nanocores(value: int) -> str:
    """A DecimalSI quantity of scale -9, canonical ("250000000n" is "250m", 0 is "0")."""
    if value == 0:
        return "0"
    exponent = -9
    while value % 1000 == 0 and exponent < 15:
        value //= 1000
        exponent += 3
    return f"{value}{_DECIMAL_SUFFIXES[exponent]}"


def binary_bytes(value: int) -> str:
    """A BinarySI quantity, canonical: the largest power of 1024 that divides it ("1Mi")."""
    for i, suffix in enumerate(_BINARY_SUFFIXES):
        unit = 1024 ** (len(_BINARY_SUFFIXES) - i)
        if value and value % unit == 0:
            return f"{value // unit}{suffix}"
    return str(value)


def go_duration(seconds: float) -> str:
    """time.Duration's String(): "15.012s", "1m0.5s", "0s"."""
    nanos = round(seconds * 1e9)
    if nanos == 0:
        return "0s"
    hours, rest = divmod(nanos, 3600 * 10**9)
    minutes, rest = divmod(rest, 60 * 10**9)
    whole, fraction = divmod(rest, 10**9)
    text = f"{whole}" + (f".{fraction:09d}".rstrip("0") if fraction else "") + "s"
    if hours:
        return f"{hours}h{minutes}m{text}"
    return f"{minutes}m{text}" if minutes else text


def rfc3339(moment: float) -> str:
    utc = datetime.datetime.fromtimestamp(int(moment), tz=datetime.UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%SZ")


def _usage(u: Usage) -> JSONObject:
    return {"cpu": nanocores(u.cpu_nanocores), "memory": binary_bytes(u.memory_bytes)}


def _metadata(name: str, labels: Mapping[str, str], now: float, namespace: str = "") -> JSONObject:
    out: JSONObject = {"name": name}
    if namespace:
        out["namespace"] = namespace
    out["creationTimestamp"] = rfc3339(now)
    if labels:
        out["labels"] = dict(labels)
    return out


def node_metrics(name: str, labels: Mapping[str, str], u: Usage, now: float) -> JSONObject:
    return {
        "kind": "NodeMetrics",
        "apiVersion": API_VERSION,
        "metadata": _metadata(name, labels, now),
        "timestamp": rfc3339(u.timestamp),
        "window": go_duration(u.window),
        "usage": _usage(u),
    }


def pod_metrics(
    namespace: str,
    name: str,
    labels: Mapping[str, str],
    pod: Usage,
    containers: Mapping[str, Usage],
    now: float,
) -> JSONObject:
    return {
        "kind": "PodMetrics",
        "apiVersion": API_VERSION,
        "metadata": _metadata(name, labels, now, namespace),
        "timestamp": rfc3339(pod.timestamp),
        "window": go_duration(pod.window),
        "containers": [
            {"name": container, "usage": _usage(u)} for container, u in sorted(containers.items())
        ],
    }


def metrics_list(kind: str, items: list[JSONObject]) -> JSONObject:
    return {"kind": kind, "apiVersion": API_VERSION, "metadata": {}, "items": items}


RESOURCE_LIST: JSONObject = {
    "kind": "APIResourceList",
    "apiVersion": "v1",
    "groupVersion": API_VERSION,
    "resources": [
        {"name": "nodes", "singularName": "", "namespaced": False, "kind": "NodeMetrics",
         "verbs": ["get", "list"]},
        {"name": "pods", "singularName": "", "namespaced": True, "kind": "PodMetrics",
         "verbs": ["get", "list"]},
    ],
}  # fmt: skip
