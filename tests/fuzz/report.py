"""What a fuzzing run found at one door: how many requests, the answers by status, and each
answer that broke the rules (a 5xx, a refusal that is not a Status, a wrong reason)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from podplane.apimachinery.json_types import JSONObject

# Failures kept in full; past these only their count grows.
KEPT_FAILURES = 50


@dataclass
class FuzzResult:
    door: str
    requests: int = 0
    seconds: float = 0.0
    codes: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    failure_count: int = 0

    def answered(self, code: str) -> None:
        self.requests += 1
        self.codes[code] += 1

    def failed(self, line: str) -> None:
        self.failure_count += 1
        if len(self.failures) < KEPT_FAILURES:
            self.failures.append(line)

    def as_json(self) -> JSONObject:
        return {
            "door": self.door,
            "requests": self.requests,
            "seconds": round(self.seconds, 1),
            "requests_per_second": round(self.requests / self.seconds) if self.seconds else 0,
            "codes": dict(sorted(self.codes.items())),
            "failures": self.failure_count,
            "first_failures": self.failures,
        }
