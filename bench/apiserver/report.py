"""The result of a run as JSON and as the markdown tables the README quotes, with the verdicts
against the issue's targets (Kubernetes' mutating-call SLO and half of raw etcd's write rate)."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from typing import TypedDict

from podplane.apimachinery.json_types import JSONObject

P99_TARGET_SECONDS = 1.0
THROUGHPUT_TARGET = 0.5  # of the raw etcd CAS rate


def ms(seconds: float | None) -> str:
    if seconds is None or (isinstance(seconds, float) and math.isnan(seconds)):
        return "–"
    return f"{seconds * 1000:.1f}"


def rate(per_second: float | None) -> str:
    if per_second is None or math.isnan(per_second):
        return "–"
    return f"{per_second:,.0f}"


CPU_COLUMNS = ("apiserver", "etcd", "clients", "host")
CPU_HEADER = "CPU % apiserver / etcd / clients / host"


# A watch-delivery cell's columns in both reports (this one's and the two doors'), after the
# cell's own leading ones: deliveries, latencies from the write's start and from its
# acknowledgement, missed events.
DELIVERY_HEADERS = [
    "deliveries",
    "p50 ms",
    "p99 ms",
    "p50 ms from ack",
    "p99 ms from ack",
    "missed",
]


def delivery_cells(cell: JSONObject) -> list[str]:
    """A watch-delivery cell's values under DELIVERY_HEADERS."""
    return [
        f"{cell['deliveries']:,}",
        ms(cell["from_write_start"]["p50"]),
        ms(cell["from_write_start"]["p99"]),
        ms(cell["from_ack"]["p50"]),
        ms(cell["from_ack"]["p99"]),
        str(cell["missed_total"]),
    ]


def cpu(percent: dict[str, float], names: tuple[str, ...] = CPU_COLUMNS) -> str:
    """The cell "98 / 41 / 35 / 180", in the order of `names`; "–" for what was not observed."""
    return " / ".join(f"{percent[n]:.0f}" if n in percent else "–" for n in names)


def errors(cell: JSONObject) -> str:
    by_code = cell.get("errors_by_code") or {}
    if not by_code:
        return str(cell.get("errors", 0))
    return ", ".join(f"{n} {code}" for code, n in sorted(by_code.items()))


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


class MutatingP99(TypedDict):
    """The higher of create's and update's p99 at the highest client count, against 1 s."""

    clients: int
    seconds: float
    met: bool


class WriteThroughput(TypedDict):
    """The peak apiserver write rates against raw etcd's; met at half of the CAS rate."""

    apiserver_update_per_second: float
    etcd_cas_per_second: float
    ratio: float
    met: bool
    apiserver_create_per_second: float
    etcd_create_per_second: float
    create_ratio: float


class Verdicts(TypedDict, total=False):
    """Each verdict whose phases ran."""

    mutating_p99: MutatingP99
    write_throughput: WriteThroughput


def verdicts(result: JSONObject) -> Verdicts:
    """Mutating p99 at the highest client count (< 1 s) and the peak apiserver write rate as a
    fraction of raw etcd's (>= 50%); absent where a phase did not run."""
    out: Verdicts = {}
    writes = result.get("writes") or []
    if writes:
        top = max(writes, key=lambda c: c["clients"])
        p99 = max(
            math.inf if top[op]["p99"] is None else top[op]["p99"] for op in ("create", "update")
        )
        out["mutating_p99"] = {
            "clients": top["clients"],
            "seconds": p99,
            "met": p99 < P99_TARGET_SECONDS,
        }
    etcd = result.get("etcd") or {}
    if writes and "cas" in etcd:
        peak_update = max(c["update"]["per_second"] for c in writes)
        peak_create = max(c["create"]["per_second"] for c in writes)
        ratio = peak_update / etcd["cas"]["per_second"]
        out["write_throughput"] = {
            "apiserver_update_per_second": peak_update,
            "etcd_cas_per_second": etcd["cas"]["per_second"],
            "ratio": ratio,
            "met": ratio >= THROUGHPUT_TARGET,
            "apiserver_create_per_second": peak_create,
            "etcd_create_per_second": etcd["create"]["per_second"],
            "create_ratio": peak_create / etcd["create"]["per_second"],
        }
    return out


def _verdict_lines(v: Verdicts) -> list[str]:
    lines = []
    if "mutating_p99" in v:
        m = v["mutating_p99"]
        lines.append(
            f"- mutating p99 at {m['clients']} clients < 1 s: "
            f"**{'yes' if m['met'] else 'no'}** ({ms(m['seconds'])} ms, the higher of "
            f"create and update)"
        )
    if "write_throughput" in v:
        w = v["write_throughput"]
        lines.append(
            f"- apiserver write throughput / raw etcd CAS: **{w['ratio']:.0%}** "
            f"(target ≥ 50%: {'met' if w['met'] else 'not met'}): peak updates "
            f"{rate(w['apiserver_update_per_second'])}/s vs CAS "
            f"{rate(w['etcd_cas_per_second'])} txn/s; creates "
            f"{rate(w['apiserver_create_per_second'])}/s vs etcd creates "
            f"{rate(w['etcd_create_per_second'])} txn/s ({w['create_ratio']:.0%})"
        )
    else:
        lines.append("- apiserver write throughput / raw etcd CAS: not measured (no etcd phase)")
    return lines


def markdown(result: JSONObject) -> str:
    host, settings = result["host"], result["settings"]
    parts = _summary_lines(result, host)
    parts += _etcd_lines(result, settings)
    parts += _writes_lines(result, settings)
    parts += _watch_lines(result, settings)
    parts += [f"- {note}" for note in result.get("notes", [])]
    return "\n".join(parts).rstrip() + "\n"


def _summary_lines(result: JSONObject, host: JSONObject) -> list[str]:
    """The title, the command, host and cluster, and the verdicts."""
    return [
        "# podplane apiserver benchmark",
        "",
        f"`{result['command']}`, {result['started_at']}, "
        f"{result['wall_seconds']:.0f} s wall clock. "
        f"Host: {host['cpus']} CPUs, {host['platform']}, Python {host['python']}, "
        f"grpcio {host['grpcio']}, etcd {host['etcd_version']} (data on {host['etcd_data_fs']}). "
        f"Cluster: {result['cluster']['description']}.",
        "",
        *_verdict_lines(result["verdicts"]),
        "",
    ]


def _etcd_lines(result: JSONObject, settings: JSONObject) -> list[str]:
    """The raw etcd ceiling: its table, or why it was skipped."""
    etcd = result.get("etcd") or {}
    if "cas" not in etcd:
        return [f"**Raw etcd ceiling**: skipped: {etcd.get('skipped', 'not run')}.", ""]
    return [
        f"**Raw etcd ceiling**: Txn with the apiserver's compares, {etcd['value_bytes']}-byte "
        f"values, {etcd['workers']} processes × {etcd['inflight_per_worker']} requests in "
        f"flight (grpc.aio, generated stubs), {settings['etcd_warmup']:g} s warm-up then "
        f"{settings['etcd_duration']:g} s measured.",
        "",
        table(
            ["etcd Txn", "txn/s", "p50 ms", "p99 ms", "errors", CPU_HEADER],
            [
                [
                    label,
                    rate(etcd[k]["per_second"]),
                    ms(etcd[k]["p50"]),
                    ms(etcd[k]["p99"]),
                    str(etcd[k]["errors"] + etcd[k]["failed_compares"]),
                    cpu(etcd[k]["cpu_percent"]),
                ]
                for k, label in (
                    ("create", "create (create_revision = 0, put)"),
                    ("cas", "CAS (mod_revision = expected, put)"),
                )
            ],
        ),
        "",
    ]


def _writes_lines(result: JSONObject, settings: JSONObject) -> list[str]:
    """The apiserver's creates and updates per client count; nothing if not run."""
    writes = result.get("writes") or []
    if not writes:
        return []
    return [
        "**apiserver writes**: small Pods (one busybox container) in `default`; C clients, "
        "each an asyncio task with its own gRPC connection and one request at a time, spread "
        "over worker processes; creates, then updates of those pods (a label changed, "
        f"resourceVersion sent: a CAS). {settings['warmup']:g} s warm-up excluded, "
        f"{settings['duration']:g} s measured per row.",
        "",
        table(
            [
                "clients",
                "processes",
                "op",
                "ops/s",
                "p50 ms",
                "p90 ms",
                "p99 ms",
                "errors",
                CPU_HEADER,
            ],
            [
                [
                    str(c["clients"]),
                    str(c["worker_processes"]),
                    op,
                    rate(c[op]["per_second"]),
                    ms(c[op]["p50"]),
                    ms(c[op]["p90"]),
                    ms(c[op]["p99"]),
                    errors(c[op]),
                    cpu(c[op]["cpu_percent"]),
                ]
                for c in writes
                for op in ("create", "update")
            ],
        ),
        "",
    ]


def _watch_lines(result: JSONObject, settings: JSONObject) -> list[str]:
    """Watch delivery latency per watcher count; nothing if not run."""
    watch = result.get("watch") or []
    if not watch:
        return []
    return [
        f"**Watch delivery**: W watchers of pods (label selector, from a resourceVersion, "
        f"{settings['watchers_per_connection']} per connection) in worker processes; pods "
        f"created at {settings['watch_rate']:g}/s for {settings['watch_duration']:g} s; "
        "latency to the ADDED event measured from the write's start (the creation time in an "
        "annotation) and from its acknowledgement.",
        "",
        table(
            [
                "watchers",
                "processes",
                *DELIVERY_HEADERS,
                "create p99 ms",
                CPU_HEADER,
            ],
            [
                [
                    str(c["watchers"]),
                    str(c["worker_processes"]),
                    *delivery_cells(c),
                    ms(c["write_latency"]["p99"]),
                    cpu(c["cpu_percent"]),
                ]
                for c in watch
            ],
        ),
        "",
    ]


def write(
    result: JSONObject,
    json_path: str,
    markdown_path: str,
    render: Callable[[JSONObject], str] | None = None,
) -> None:
    """The result as JSON, and as markdown by `render` (this benchmark's `markdown` by default)."""
    for path, text in (
        (json_path, json.dumps(result, indent=2, sort_keys=True) + "\n"),
        (markdown_path, (render or markdown)(result)),
    ):
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
