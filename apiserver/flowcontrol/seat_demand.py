"""A priority level's seat demand (seats in use plus seats waiting) over time, integrated so that
each borrowing adjustment sees its average, standard deviation and high watermark since the last
one (k8s.io/apiserver/pkg/util/flowcontrol/fairqueuing/integrator.go), and the smoothed figure
the adjustment aims at (apf_controller.go seatDemandStats)."""

from __future__ import annotations

import math
from dataclasses import dataclass

# The smoothing of the demand envelope: its half-life is 5 minutes of 10 s adjustments.
SMOOTHING_COEFFICIENT = 0.977


@dataclass(frozen=True)
class IntegratorResults:
    duration: float
    average: float
    deviation: float
    max: float


class Integrator:
    """Integrates a piecewise-constant value: set() at each change, reset() at each period's end."""

    def __init__(self, now: float, value: float = 0.0) -> None:
        self._start = self._last = now
        self._value = value
        self._max = value
        self._sum = 0.0  # integral of value dt
        self._sum_squares = 0.0  # integral of value^2 dt

    @property
    def value(self) -> float:
        return self._value

    def _advance(self, now: float) -> None:
        dt = now - self._last
        if dt > 0:
            self._sum += self._value * dt
            self._sum_squares += self._value * self._value * dt
            self._last = now

    def set(self, value: float, now: float) -> None:
        self._advance(now)
        self._value = value
        self._max = max(self._max, value)

    def reset(self, now: float) -> IntegratorResults:
        self._advance(now)
        duration = self._last - self._start
        if duration > 0:
            average = self._sum / duration
            variance = max(self._sum_squares / duration - average * average, 0.0)
            results = IntegratorResults(duration, average, math.sqrt(variance), self._max)
        else:
            results = IntegratorResults(0.0, math.nan, math.nan, self._max)
        self._start = self._last = now
        self._sum = self._sum_squares = 0.0
        self._max = self._value
        return results


@dataclass
class SeatDemandStats:
    average: float = 0.0
    deviation: float = 0.0
    high_watermark: int = 0
    smoothed: float = 0.0

    def update(self, results: IntegratorResults) -> None:
        self.high_watermark = round(results.max)
        if results.duration <= 0:
            return
        self.average = results.average
        self.deviation = 0.0 if math.isnan(results.deviation) else results.deviation
        envelope = self.average + self.deviation
        self.smoothed = max(
            envelope,
            SMOOTHING_COEFFICIENT * self.smoothed + (1 - SMOOTHING_COEFFICIENT) * envelope,
        )
