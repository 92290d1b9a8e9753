"""wrk's report, read: requests per second, the latency percentiles of `--latency`, the errors
(socket errors and non-2xx/3xx answers)."""

from __future__ import annotations

import re
from dataclasses import dataclass

UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


@dataclass(frozen=True)
class Report:
    requests: int
    per_second: float
    p50: float  # seconds
    p90: float
    p99: float
    errors: int

    def to_json(self) -> dict[str, float]:
        return {
            "requests": self.requests,
            "per_second": self.per_second,
            "p50": self.p50,
            "p90": self.p90,
            "p99": self.p99,
            "errors": self.errors,
        }


def _seconds(value: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value)
    if m is None:
        raise ValueError(f"not a wrk duration: {value!r}")
    return float(m.group(1)) * UNITS[m.group(2)]


def parse(output: str) -> Report:
    percentiles = {
        int(m.group(1)): _seconds(m.group(2))
        for m in re.finditer(r"^\s+(\d+)%\s+(\S+)\s*$", output, re.MULTILINE)
    }
    requests = re.search(r"^\s*(\d+) requests in", output, re.MULTILINE)
    rate = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.MULTILINE)
    if requests is None or rate is None or 99 not in percentiles:
        raise ValueError(f"not a wrk --latency report:\n{output}")
    errors = 0
    socket = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    if socket is not None:
        errors += sum(int(n) for n in socket.groups())
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if non_2xx is not None:
        errors += int(non_2xx.group(1))
    return Report(
        requests=int(requests.group(1)),
        per_second=float(rate.group(1)),
        p50=percentiles[50],
        p90=percentiles[90],
        p99=percentiles[99],
        errors=errors,
    )
