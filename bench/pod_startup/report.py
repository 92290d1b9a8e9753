"""The results of `podplane-bench pods`: one cell per rate, as JSON and as a markdown table that
shows the SLO verdict and where the time went (create -> scheduled -> Running)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from bench.common.stats import Summary
from podplane.apimachinery.json_types import JSONObject

# Kubernetes' pod start-up SLO (p99, stateless pods, image present) and this project's aim.
SLO_SECONDS = 5.0
STRETCH_SECONDS = 2.0


@dataclass(frozen=True)
class Cell:
    mode: str  # "steady" or "burst"
    rate: float  # pods/s asked for; 0 for a burst
    namespace: str
    pods: int
    pod_startup: Summary  # create -> Running, both as the watch delivered them (the SLI)
    create_to_scheduled: Summary
    scheduled_to_running: Summary
    call_to_running: Summary  # from the Create call instead: adds the create request's latency
    create_seconds: float
    never_running: list[str]
    create_errors: list[str]
    # CPU milliseconds per pod on the compose cluster's nodes, by process (node_cpu.py).
    node_cpu_ms: dict[str, float] = field(default_factory=dict)

    def meets(self, seconds: float) -> bool:
        p99 = self.pod_startup.p99
        return self.pod_startup.count == self.pods and not math.isnan(p99) and p99 <= seconds

    def to_json(self) -> JSONObject:
        return {
            "mode": self.mode,
            "rate": self.rate,
            "namespace": self.namespace,
            "pods": self.pods,
            "pod_startup": self.pod_startup.to_json(),
            "create_to_scheduled": self.create_to_scheduled.to_json(),
            "scheduled_to_running": self.scheduled_to_running.to_json(),
            "call_to_running": self.call_to_running.to_json(),
            "create_seconds": self.create_seconds,
            "never_running": len(self.never_running),
            "never_running_pods": self.never_running[:10],
            "create_errors": self.create_errors,
            "node_cpu_ms_per_pod": self.node_cpu_ms,
            "p99_within_slo": self.meets(SLO_SECONDS),
            "p99_within_stretch": self.meets(STRETCH_SECONDS),
        }


def _s(value: float) -> str:
    return "–" if math.isnan(value) else f"{value:.2f}"


def _mode(cell: Cell) -> str:
    return "burst" if cell.mode == "burst" else f"steady {cell.rate:g} pods/s"


def _table(header: list[str], rows: Sequence[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def markdown(cells: Sequence[Cell]) -> str:
    startup = _table(
        [
            "creation",
            "pods",
            "Running",
            "p50 s",
            "p90 s",
            "p99 s",
            "max s",
            "Running/s",
            f"p99 <= {SLO_SECONDS:g} s",
            f"p99 <= {STRETCH_SECONDS:g} s",
        ],
        [
            [
                _mode(c),
                str(c.pods),
                str(c.pod_startup.count),
                _s(c.pod_startup.p50),
                _s(c.pod_startup.p90),
                _s(c.pod_startup.p99),
                _s(c.pod_startup.max),
                _s(c.pod_startup.per_second),
                "yes" if c.meets(SLO_SECONDS) else "no",
                "yes" if c.meets(STRETCH_SECONDS) else "no",
            ]
            for c in cells
        ],
    )
    phases = _table(
        ["creation", "create -> scheduled p50 / p99 s", "scheduled -> Running p50 / p99 s"],
        [
            [
                _mode(c),
                f"{_s(c.create_to_scheduled.p50)} / {_s(c.create_to_scheduled.p99)}",
                f"{_s(c.scheduled_to_running.p50)} / {_s(c.scheduled_to_running.p99)}",
            ]
            for c in cells
        ],
    )
    text = (
        "## Pod start-up: create -> Running (as a watch delivers them)\n\n"
        + startup
        + "\n### Where the time goes\n\n"
        + phases
    )
    if any(c.node_cpu_ms for c in cells):
        text += "\n### CPU per pod on the nodes, ms (every node, by process)\n\n"
        text += _cpu_table(cells)
    return text


def _cpu_table(cells: Sequence[Cell]) -> str:
    names: list[str] = []
    for c in cells:
        names += [n for n in c.node_cpu_ms if n not in names]
    return _table(
        ["process", *(_mode(c) for c in cells)],
        [[name, *(f"{c.node_cpu_ms.get(name, 0.0):.1f}" for c in cells)] for name in names],
    )
