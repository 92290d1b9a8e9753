"""The overload benchmark's result as JSON and as the markdown tables docs/benchmarks.md quotes:
the writers' calls per cell and verb, the renewals against their deadlines, and what API Priority
and Fairness rejected, by priority level and reason."""

from __future__ import annotations

from bench.apiserver import report
from bench.apiserver.overload_cell import VERBS
from bench.apiserver.report import cpu, ms, rate, table
from podplane.apimachinery.json_types import JSONObject


def _cell_name(cell: JSONObject) -> str:
    return f"{cell['guard']}, {cell['clients']} writers"


def cell_line(cell: JSONObject) -> str:
    """One progress line: accepted rate and p99 per verb, refusals, renewals."""
    parts = [
        f"{v} {rate(cell[v]['accepted']['per_second'])}/s p99 "
        f"{ms(cell[v]['accepted']['p99'])} ms (client-seen {ms(cell[v]['client_seen']['p99'])}),"
        f" refused {cell[v]['refused']['count']}"
        for v in VERBS
    ]
    renewals = [
        f"{name} max {ms(cell[key]['max'])} ms, {cell[key]['missed']} missed"
        for name, key in (("elections", "leader_election"), ("heartbeats", "node_heartbeat"))
    ]
    return f"{_cell_name(cell)}: " + "; ".join(parts + renewals)


def _errors(verb: JSONObject) -> str:
    by_code = verb.get("errors_by_code") or {}
    return ", ".join(f"{n} {code}" for code, n in sorted(by_code.items())) or "0"


def _verdict_lines(result: JSONObject) -> list[str]:
    lines = []
    for cell in result["cells"]:
        v = result["verdicts"][f"{cell['guard']}@{cell['clients']}"]
        line = (
            f"- {_cell_name(cell)}: accepted mutating p99 **{ms(v['mutating_p99_seconds'])} ms**"
            f" ({'under' if v['p99_under_1s'] else 'over'} 1 s), as clients saw them "
            f"{ms(v['client_seen_p99_seconds'])} ms; "
        )
        line += (
            f"{v['refused']:,} refusals (p99 {ms(v['refused_p99_seconds'])} ms); "
            if v["refused"]
            else "nothing refused; "
        )
        line += (
            "every lease renewal and heartbeat in time"
            if v["renewals_in_time"]
            else "**renewals or heartbeats missed their deadline**"
        ) + f" (slowest {ms(v['renewal_max_seconds'])} ms)"
        lines.append(line)
    return lines


def _renewal_row(cell: JSONObject, key: str, what: str) -> list[str]:
    r = cell[key]
    return [
        _cell_name(cell),
        what,
        f"{r['deadline_seconds']:g} s",
        f"{r['count'] + r['missed']:,}",
        ms(r["p50"]),
        ms(r["p99"]),
        ms(r["max"]),
        f"{r['missed']:,}",
    ]


def _rejections(cell: JSONObject) -> str:
    """API Priority and Fairness' rejections by priority level and reason (warm-up included)."""
    counts = cell.get("flowcontrol", {}).get("apiserver_flowcontrol_rejected_requests", {})
    by_level: dict[str, float] = {}
    for key, n in counts.items():
        labels = dict(part.split("=", 1) for part in key.split(","))
        name = f"{labels.get('priority_level')} {labels.get('reason')}"
        by_level[name] = by_level.get(name, 0) + n
    return ", ".join(f"{name} {n:,.0f}" for name, n in sorted(by_level.items()) if n) or "none"


def markdown(result: JSONObject) -> str:
    host, s = result["host"], result["settings"]
    rows = []
    for c in result["cells"]:
        for verb in VERBS:
            a, r, seen = c[verb]["accepted"], c[verb]["refused"], c[verb]["client_seen"]
            rows.append(
                [
                    _cell_name(c),
                    verb,
                    rate(a["per_second"]),
                    ms(a["p50"]),
                    ms(a["p99"]),
                    ms(seen["p99"]),
                    f"{r['count']:,}",
                    ms(r["p50"]),
                    ms(r["p99"]),
                    _errors(c[verb]),
                    f"{c['watch']['events_per_second']:,.0f}",
                    cpu(c["cpu_percent"]),
                ]
            )
    renewals = [
        row
        for c in result["cells"]
        for row in (
            _renewal_row(c, "leader_election", "leader election"),
            _renewal_row(c, "node_heartbeat", "node heartbeat"),
        )
    ]
    apf_lines = [
        f"- {_cell_name(c)}: {_rejections(c)}" for c in result["cells"] if c["guard"] == "apf"
    ]
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
        "Writers authenticate as the controller-manager (each a closed loop on its own TLS "
        "connection: create a pod, update it, create the next, ...; a refused call is retried "
        "after the retry-after hint plus up to 50 % jitter, as client-go does; client-seen "
        f"latency includes those retries). {s['nodes']} node agents (system:node:<n>) each "
        "watch their node's pods and renew their node lease every "
        f"{s['heartbeat_interval']:g} s, each renewal due within that; {s['electors']} leader "
        "electors (the scheduler, the controller-manager) renew their lease every 2 s, each "
        f"due within the 10 s renew deadline; {s['cluster_watchers']} cluster watchers (the "
        f"scheduler's informer). Spread over {s['client_processes']} worker processes; a fresh "
        "etcd and TLS apiserver per cell, started with that guard: apf (API Priority and "
        "Fairness, its default 75 seats), apf-150 (API Priority and Fairness with 150 seats), "
        "max-inflight (the max-in-flight guard, 100 read-only and 50 mutating), none. "
        f"{s['warmup']:g} s warm-up, {s['duration']:g} s measured per cell; latencies are of "
        "calls started in the window.",
        "",
        table(
            [
                "cell",
                "verb",
                "accepted/s",
                "p50 ms",
                "p99 ms",
                "client-seen p99 ms",
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
        table(
            ["cell", "renewal", "deadline", "renewals", "p50 ms", "p99 ms", "max ms", "missed"],
            renewals,
        ),
        "",
    ]
    if apf_lines:
        parts += ["API Priority and Fairness' rejections (level, reason):", "", *apf_lines, ""]
    return "\n".join(parts).rstrip() + "\n"


def write(result: JSONObject, json_path: str, markdown_path: str) -> None:
    report.write(result, json_path, markdown_path, markdown)
