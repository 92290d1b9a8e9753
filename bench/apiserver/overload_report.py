"""The overload benchmark's result as JSON and as the markdown table the README quotes."""

from __future__ import annotations

from typing import Any

from bench.apiserver import report
from bench.apiserver.overload_cell import VERBS
from bench.apiserver.report import cpu, ms, rate, table


def _limit(cell: dict[str, Any]) -> str:
    return str(cell["mutating_limit"]) if cell["mutating_limit"] else "none"


def cell_line(cell: dict[str, Any]) -> str:
    """One progress line: accepted rate and p99 per verb, refusals."""
    parts = [
        f"{v} {rate(cell[v]['accepted']['per_second'])}/s p99 "
        f"{ms(cell[v]['accepted']['p99'])} ms, refused {cell[v]['refused']['count']} "
        f"(p99 {ms(cell[v]['refused']['p99'])} ms)"
        for v in VERBS
    ]
    return f"limit {_limit(cell)}: " + "; ".join(parts)


def _errors(verb: dict[str, Any]) -> str:
    by_code = verb.get("errors_by_code") or {}
    return ", ".join(f"{n} {code}" for code, n in sorted(by_code.items())) or "0"


def _verdict_lines(result: dict[str, Any]) -> list[str]:
    lines = []
    for cell in result["cells"]:
        v = result["verdicts"][str(cell["mutating_limit"])]
        guard = f"limit {cell['mutating_limit']}" if cell["mutating_limit"] else "no guard"
        line = (
            f"- {guard}: mutating p99 of accepted calls **{ms(v['mutating_p99_seconds'])} ms**"
            f" ({'under' if v['p99_under_1s'] else 'over'} 1 s)"
        )
        if v["refused"]:
            line += (
                f"; {v['refused']:,} refused, p99 {ms(v['refused_p99_seconds'])} ms to the refusal"
            )
        lines.append(line)
    return lines


def markdown(result: dict[str, Any]) -> str:
    host, s = result["host"], result["settings"]
    rows = []
    for c in result["cells"]:
        for verb in VERBS:
            a, r = c[verb]["accepted"], c[verb]["refused"]
            rows.append(
                [
                    _limit(c),
                    verb,
                    rate(a["per_second"]),
                    ms(a["p50"]),
                    ms(a["p99"]),
                    f"{r['count']:,}",
                    ms(r["p50"]),
                    ms(r["p99"]),
                    _errors(c[verb]),
                    f"{c['watch']['events_per_second']:,.0f}",
                    cpu(c["cpu_percent"]),
                ]
            )
    load = result.get("load_average_at_end")
    parts = [
        "# podplane apiserver under overload",
        "",
        f"`{result['command']}`, {result['started_at']}, {result['wall_seconds']:.0f} s wall "
        f"clock, code {result['code']}. Host: {host['cpus']} CPUs, {host['platform']}, Python "
        f"{host['python']}, grpcio {host['grpcio']}, etcd {host['etcd_version']}; load average "
        f"{host['load_average_at_start']:.2f} at start"
        + (f", {load[0]:.2f} at end" if load else "")
        + ".",
        "",
        *_verdict_lines(result),
        "",
        f"{s['clients']} writers (each a closed loop on its own connection: create a pod, update "
        f"it, create the next, ...), {s['node_watchers']} node watchers (a kubelet's watch: "
        "spec.nodeName of one node; each pod is bound to one of their nodes) and "
        f"{s['cluster_watchers']} cluster watchers (every pod, as a scheduler's informer), over "
        f"{s['client_processes']} worker processes; a fresh etcd and apiserver per row, started "
        "with that --max-mutating-requests-inflight (reads keep the default 400). A refused "
        "writer waits the retry-after hint (1 s) plus up to 50 % jitter, as client-go does. "
        f"{s['warmup']:g} s warm-up, {s['duration']:g} s measured per limit; latencies are of "
        "calls started in the window.",
        "",
        table(
            [
                "limit",
                "verb",
                "accepted/s",
                "p50 ms",
                "p99 ms",
                "refused",
                "refusal p50 ms",
                "refusal p99 ms",
                "other errors",
                "watch events/s",
                "CPU % apiserver / etcd / clients / host",
            ],
            rows,
        ),
        "",
    ]
    return "\n".join(parts).rstrip() + "\n"


def write(result: dict[str, Any], json_path: str, markdown_path: str) -> None:
    report.write(result, json_path, markdown_path, markdown)
