"""The result of a custom-resources run as markdown, with the verdict: a custom resource's creates/s
at least 0.8 of a ConfigMap's of the same size, at every client count measured."""

from __future__ import annotations

from typing import TypedDict

from bench.apiserver.report import cpu, errors, ms, rate, table
from bench.apiserver_doors.report import cpu_ms
from podplane.apimachinery.json_types import JSONObject

RATIO_TARGET = 0.8
CONFIGMAP = "ConfigMap"
CUSTOM = "Payload"  # the custom resource's kind (objects.KIND)


class KindRatio(TypedDict):
    clients: int
    configmap_per_second: float
    custom_per_second: float
    ratio: float | None  # None when no ConfigMap was created
    met: bool


class Verdict(TypedDict):
    target: float
    by_clients: list[KindRatio]
    met: bool


def kind_ratios(cells: list[JSONObject]) -> list[KindRatio]:
    """Per client count measured for both kinds, the custom resource's creates/s over the
    ConfigMap's."""
    by_kind: dict[str, dict[int, float]] = {CONFIGMAP: {}, CUSTOM: {}}
    for cell in cells:
        by_kind[cell["kind"]][cell["clients"]] = cell["create"]["per_second"]
    out: list[KindRatio] = []
    for clients in sorted(set(by_kind[CONFIGMAP]) & set(by_kind[CUSTOM])):
        base, custom = by_kind[CONFIGMAP][clients], by_kind[CUSTOM][clients]
        ratio = custom / base if base > 0 else None
        out.append(
            {
                "clients": clients,
                "configmap_per_second": base,
                "custom_per_second": custom,
                "ratio": ratio,
                "met": ratio is not None and ratio >= RATIO_TARGET,
            }
        )
    return out


def verdict(cells: list[JSONObject]) -> Verdict | None:
    ratios = kind_ratios(cells)
    if not ratios:
        return None
    return {"target": RATIO_TARGET, "by_clients": ratios, "met": all(r["met"] for r in ratios)}


def _ratio(r: KindRatio) -> str:
    return "–" if r["ratio"] is None else f"{r['ratio']:.2f}"


def markdown(result: JSONObject) -> str:
    host, s = result["host"], result["settings"]
    judged: Verdict | None = result.get("verdict")
    ratios = {r["clients"]: r for r in (judged["by_clients"] if judged else [])}
    rows = []
    for c in result["writes"]:
        r = ratios.get(c["clients"]) if c["kind"] == CUSTOM else None
        rows.append(
            [
                str(c["clients"]),
                c["kind"],
                rate(c["create"]["per_second"]),
                ms(c["create"]["p50"]),
                ms(c["create"]["p99"]),
                errors(c["create"]),
                _ratio(r) if r else "",
                ("yes" if r["met"] else "no") if r else "",
                cpu_ms(c.get("apiserver_cpu_ms_per_create")),
                cpu(c["cpu_percent"]),
            ]
        )
    if judged is None:
        verdict_line = "- custom resource / ConfigMap creates/s: not measured"
    else:
        per_count = ", ".join(f"{r['clients']} clients {_ratio(r)}" for r in judged["by_clients"])
        verdict_line = (
            f"- custom resource / ConfigMap creates/s ≥ {judged['target']:g} at every client "
            f"count: **{'met' if judged['met'] else 'not met'}** ({per_count})"
        )
    lines = [
        "# podplane custom resources: creates beside a ConfigMap's",
        "",
        f"`{result['command']}`, {result['started_at']}, {result['wall_seconds']:.0f} s wall "
        f"clock. Host: {host['cpus']} CPUs, {host['platform']}, load average "
        f"{host['load_average_at_start']:.1f} at start, Python {host['python']}, "
        f"aiohttp {host['aiohttp']}, etcd {host['etcd_version']} (data on "
        f"{host['etcd_data_fs']}). Cluster: {result['cluster']['description']}.",
        "",
        verdict_line,
        "",
        f"**Creates** over the REST door of a ConfigMap and of a custom resource (kind Payload, "
        f"a `data` map of strings in its schema) whose JSON bodies are both {s['size']:,} bytes "
        "(before the name and labels, the same for both): C clients, each an asyncio task with "
        "its own TLS connection and one request at a time, spread over "
        f"{s['client_processes']} worker processes; {s['warmup']:g} s warm-up excluded, "
        f"{s['duration']:g} s measured per row. The definition was served "
        f"{result['established_seconds']:.2f} s after its create.",
        "",
        table(
            [
                "clients",
                "kind",
                "creates/s",
                "p50 ms",
                "p99 ms",
                "errors",
                "custom/ConfigMap",
                f"≥ {RATIO_TARGET:g}",
                "apiserver CPU ms/create",
                "CPU % apiserver / etcd / clients / host",
            ],
            rows,
        ),
        "",
    ]
    return "\n".join(lines).rstrip() + "\n"
