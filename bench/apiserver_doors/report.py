"""The result of an apiserver-doors run as markdown, with the verdict: the HTTP door's create
throughput at least 0.8 of the gRPC door's at every client count measured."""

from __future__ import annotations

from typing import TypedDict

from bench.apiserver.report import DELIVERY_HEADERS, cpu, delivery_cells, errors, ms, rate, table
from bench.apiserver_doors.doors import GRPC, HTTP
from podplane.apimachinery.json_types import JSONObject

RATIO_TARGET = 0.8


class DoorRatio(TypedDict):
    clients: int
    grpc_per_second: float
    http_per_second: float
    ratio: float | None  # None when the gRPC door created nothing
    met: bool


class ThroughputVerdict(TypedDict):
    target: float
    by_clients: list[DoorRatio]
    met: bool  # at every client count measured on both doors


def door_ratios(cells: list[JSONObject]) -> list[DoorRatio]:
    """Per client count measured on both doors, HTTP creates/s over gRPC creates/s."""
    by_door: dict[str, dict[int, float]] = {GRPC: {}, HTTP: {}}
    for cell in cells:
        by_door[cell["door"]][cell["clients"]] = cell["create"]["per_second"]
    out: list[DoorRatio] = []
    for clients in sorted(set(by_door[GRPC]) & set(by_door[HTTP])):
        grpc_rate, http_rate = by_door[GRPC][clients], by_door[HTTP][clients]
        ratio = http_rate / grpc_rate if grpc_rate > 0 else None
        out.append(
            {
                "clients": clients,
                "grpc_per_second": grpc_rate,
                "http_per_second": http_rate,
                "ratio": ratio,
                "met": ratio is not None and ratio >= RATIO_TARGET,
            }
        )
    return out


def throughput_verdict(cells: list[JSONObject]) -> ThroughputVerdict | None:
    ratios = door_ratios(cells)
    if not ratios:
        return None
    return {"target": RATIO_TARGET, "by_clients": ratios, "met": all(r["met"] for r in ratios)}


def _ratio(r: DoorRatio) -> str:
    return "–" if r["ratio"] is None else f"{r['ratio']:.2f}"


def _verdict_lines(verdict: ThroughputVerdict | None) -> list[str]:
    if verdict is None:
        return ["- HTTP / gRPC create throughput: not measured (both doors are needed)"]
    per_count = ", ".join(f"{r['clients']} clients {_ratio(r)}" for r in verdict["by_clients"])
    return [
        f"- HTTP / gRPC create throughput ≥ {verdict['target']:g} at every client count: "
        f"**{'met' if verdict['met'] else 'not met'}** ({per_count})"
    ]


def cpu_ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def _creates(result: JSONObject) -> list[str]:
    cells = result.get("writes") or []
    if not cells:
        return []
    s = result["settings"]
    ratios = {
        r["clients"]: r
        for r in (result["verdicts"].get("http_over_grpc") or {}).get("by_clients", [])
    }
    rows = []
    for c in cells:
        r = ratios.get(c["clients"])
        rows.append(
            [
                str(c["clients"]),
                c["door"],
                rate(c["create"]["per_second"]),
                ms(c["create"]["p50"]),
                ms(c["create"]["p99"]),
                errors(c["create"]),
                _ratio(r) if r and c["door"] == HTTP else "",
                ("yes" if r["met"] else "no") if r and c["door"] == HTTP else "",
                cpu_ms(c.get("apiserver_cpu_ms_per_create")),
                cpu(c["cpu_percent"]),
            ]
        )
    return [
        "**Creates** of a small Pod (one busybox container) in `default`: C clients, each an "
        "asyncio task with its own TLS connection and one request at a time, spread over "
        f"{s['client_processes']} worker processes; gRPC: the typed client; HTTP: aiohttp, "
        "keep-alive, POST of the pod's JSON. "
        f"{s['warmup']:g} s warm-up excluded, {s['duration']:g} s measured per row.",
        "",
        table(
            [
                "clients",
                "door",
                "creates/s",
                "p50 ms",
                "p99 ms",
                "errors",
                "HTTP/gRPC",
                f"≥ {RATIO_TARGET:g}",
                "apiserver CPU ms/create",
                "CPU % apiserver / etcd / clients / host",
            ],
            rows,
        ),
        "",
    ]


def _watch(result: JSONObject) -> list[str]:
    cells = result.get("watch") or []
    if not cells:
        return []
    s = result["settings"]
    return [
        f"**Watch delivery**: W watchers of pods (label selector, from a resourceVersion, one "
        f"connection each) over one door; pods created over gRPC at {s['watch_rate']:g}/s for "
        f"{s['watch_duration']:g} s; latency to each watcher's ADDED event from the write's "
        "start (annotation) and from its acknowledgement: the apiserver accepted the write "
        "between the two.",
        "",
        table(
            [
                "door",
                "watchers",
                *DELIVERY_HEADERS,
                "write p50 / p99 ms",
                "CPU % apiserver / etcd / clients / host",
            ],
            [
                [
                    c["door"],
                    str(c["watchers"]),
                    *delivery_cells(c),
                    f"{ms(c['write_latency']['p50'])} / {ms(c['write_latency']['p99'])}",
                    cpu(c["cpu_percent"]),
                ]
                for c in cells
            ],
        ),
        "",
    ]


def _listing(result: JSONObject) -> list[str]:
    listing = result.get("listing")
    if not listing:
        return []
    return [
        f"**`get pods` of {listing['pods']:,} pods**: wall time of the command, start to exit "
        f"(one unmeasured run each first), median of {listing['repetitions']}; kubectl over the "
        f"REST door is {listing['kubectl_over_podctl']:.2f}× podctl over gRPC.",
        "",
        table(
            ["command", "median s", "min s", "max s", "CPU s (median)", "rows"],
            [
                [
                    f"`{name} get pods`",
                    f"{listing[name]['median']:.2f}",
                    f"{listing[name]['min']:.2f}",
                    f"{listing[name]['max']:.2f}",
                    f"{listing[name]['cpu_seconds_median']:.2f}",
                    ", ".join(str(n) for n in listing[name]["rows"]),
                ]
                for name in ("kubectl", "podctl")
            ],
        ),
        "",
    ]


def markdown(result: JSONObject) -> str:
    host = result["host"]
    parts = [
        "# podplane apiserver doors: HTTP beside gRPC",
        "",
        f"`{result['command']}`, {result['started_at']}, {result['wall_seconds']:.0f} s wall "
        f"clock. Host: {host['cpus']} CPUs, {host['platform']}, load average "
        f"{host['load_average_at_start']:.1f} at start, Python {host['python']}, "
        f"grpcio {host['grpcio']}, aiohttp {host['aiohttp']}, "
        f"etcd {host['etcd_version']} (data on {host['etcd_data_fs']}), kubectl "
        f"{host['kubectl']}. Cluster: {result['cluster']['description']}.",
        "",
        *_verdict_lines(result["verdicts"].get("http_over_grpc")),
        "",
        *_creates(result),
        *_watch(result),
        *_listing(result),
    ]
    parts += [f"- {note}" for note in result.get("notes", [])]
    return "\n".join(parts).rstrip() + "\n"
