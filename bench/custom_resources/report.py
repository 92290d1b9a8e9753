"""The result of a custom-resources run as markdown, with the verdict: a custom resource's creates/s
at least 0.8 of a ConfigMap's of the same size, at every client count measured. With several
rounds, each round pairs the two kinds' cells of a client count, run one after the other, and a
client count's ratio is the median of its rounds' ratios: on a shared host the rate drifts by
more than the goal's margin from one minute to the next, and a pair measured side by side
shares the drift."""

from __future__ import annotations

import statistics
from typing import TypedDict

from bench.apiserver.report import cpu, errors, ms, rate, table
from bench.apiserver_doors.report import cpu_ms
from podplane.apimachinery.json_types import JSONObject

RATIO_TARGET = 0.8
CONFIGMAP = "ConfigMap"
CUSTOM = "Payload"  # the custom resource's kind (objects.KIND)


class KindRatio(TypedDict):
    clients: int
    configmap_per_second: float  # the median over the rounds
    custom_per_second: float
    ratio: float | None  # the median of the rounds' ratios; None when no ConfigMap was created
    rounds: list[float | None]  # each round's ratio, in round order
    met: bool


class Verdict(TypedDict):
    target: float
    by_clients: list[KindRatio]
    met: bool


def _round_ratio(base: float, custom: float) -> float | None:
    return custom / base if base > 0 else None


def kind_ratios(cells: list[JSONObject]) -> list[KindRatio]:
    """Per client count measured for both kinds, the custom resource's creates/s over the
    ConfigMap's: per round (a cell without a round is round 0), and their median."""
    by_kind: dict[str, dict[int, dict[int, float]]] = {CONFIGMAP: {}, CUSTOM: {}}
    for cell in cells:
        rounds = by_kind[cell["kind"]].setdefault(cell["clients"], {})
        rounds[cell.get("round", 0)] = cell["create"]["per_second"]
    out: list[KindRatio] = []
    for clients in sorted(set(by_kind[CONFIGMAP]) & set(by_kind[CUSTOM])):
        bases, customs = by_kind[CONFIGMAP][clients], by_kind[CUSTOM][clients]
        paired = sorted(set(bases) & set(customs))
        if not paired:
            continue
        ratios = [_round_ratio(bases[r], customs[r]) for r in paired]
        known = [r for r in ratios if r is not None]
        ratio = statistics.median(known) if len(known) == len(ratios) else None
        out.append(
            {
                "clients": clients,
                "configmap_per_second": statistics.median(bases[r] for r in paired),
                "custom_per_second": statistics.median(customs[r] for r in paired),
                "ratio": ratio,
                "rounds": ratios,
                "met": ratio is not None and ratio >= RATIO_TARGET,
            }
        )
    return out


def verdict(cells: list[JSONObject]) -> Verdict | None:
    ratios = kind_ratios(cells)
    if not ratios:
        return None
    return {"target": RATIO_TARGET, "by_clients": ratios, "met": all(r["met"] for r in ratios)}


def _number(ratio: float | None) -> str:
    return "–" if ratio is None else f"{ratio:.2f}"


def _ratio(r: KindRatio) -> str:
    """The judged ratio, with the rounds' range when there were several."""
    text = _number(r["ratio"])
    known = [x for x in r["rounds"] if x is not None]
    if len(r["rounds"]) > 1 and known:
        text += f" (median of {len(r['rounds'])}: {_number(min(known))}-{_number(max(known))})"
    return text


def markdown(result: JSONObject) -> str:
    host, s = result["host"], result["settings"]
    judged: Verdict | None = result.get("verdict")
    ratios = {r["clients"]: r for r in (judged["by_clients"] if judged else [])}
    configmaps = {
        (c["clients"], c.get("round", 0)): c["create"]["per_second"]
        for c in result["writes"]
        if c["kind"] == CONFIGMAP
    }
    rows = []
    for c in result["writes"]:
        r = ratios.get(c["clients"]) if c["kind"] == CUSTOM else None
        round_index = c.get("round", 0)
        base = configmaps.get((c["clients"], round_index))
        round_ratio = (
            _round_ratio(base, c["create"]["per_second"]) if r and base is not None else None
        )
        rows.append(
            [
                str(round_index + 1),
                str(c["clients"]),
                c["kind"],
                rate(c["create"]["per_second"]),
                ms(c["create"]["p50"]),
                ms(c["create"]["p99"]),
                errors(c["create"]),
                _number(round_ratio) if r else "",
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
            f"count (the median of the rounds'): **{'met' if judged['met'] else 'not met'}** "
            f"({per_count})"
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
        f"{s['duration']:g} s measured per row; {s.get('rounds', 1)} round(s), each with both "
        "kinds at every client count, the kind that goes first alternating. The definition was "
        "served "
        f"{result['established_seconds']:.2f} s after its create.",
        "",
        table(
            [
                "round",
                "clients",
                "kind",
                "creates/s",
                "p50 ms",
                "p99 ms",
                "errors",
                "custom/ConfigMap",
                "apiserver CPU ms/create",
                "CPU % apiserver / etcd / clients / host",
            ],
            rows,
        ),
        "",
    ]
    return "\n".join(lines).rstrip() + "\n"
