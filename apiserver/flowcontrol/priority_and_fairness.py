"""API Priority and Fairness (k8s.io/apiserver/pkg/util/flowcontrol apf_controller.go and
server/filters/priority-and-fairness.go), decided the same for every front door: each request is
classified by the first flow schema that matches it into a priority level and a flow; the level
executes it at once if it has a seat free, else queues it fairly among its flows
(apiserver/flowcontrol/queueset.py), and rejects it only when its queue is full or it has waited
too long. The schemas and levels are the FlowSchema and PriorityLevelConfiguration objects':
reconfigure(), which apiserver/controlplane/flowcontrol_config.py calls as they change, takes
effect from the next request. The doors answer a rejection with Kubernetes' 429 (REST) or
RESOURCE_EXHAUSTED (gRPC), "Too many requests, please try again later.", with a Retry-After.

Seats: the server has --max-requests-inflight + --max-mutating-requests-inflight of them (one
pool, as in Kubernetes); each level's nominal seats are its share of them, rounded up. Levels lend
each other seats they are not using: every 10 s, each level's limit is recomputed from its seat
demand (apiserver/flowcontrol/allocation.py), between its nominal seats less what it may lend and
its nominal seats plus what it may borrow.

Waiting: a request waits at most a quarter of the time its client gave it, and never more than
`request_wait_limit`."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from apiserver.flowcontrol.allocation import AllocationItem, allocate
from apiserver.flowcontrol.configuration import FlowSchema, PriorityLevel
from apiserver.flowcontrol.digest import bootstrap_digest
from apiserver.flowcontrol.dropped_requests import DroppedRequests
from apiserver.flowcontrol.metrics import (
    CURRENT_LIMIT,
    LOWER_LIMIT,
    NOMINAL_LIMIT,
    UPPER_LIMIT,
    flow_metrics,
)
from apiserver.flowcontrol.queueset import EXECUTING, WAITING, QueueSet, Request
from apiserver.flowcontrol.request import RequestDigest
from apiserver.flowcontrol.seat_demand import SeatDemandStats
from apiserver.flowcontrol.shufflesharding import hash_flow
from podplane.apimachinery import flowcontrol

# How often the levels' limits follow their demand (Kubernetes' borrowingAdjustmentPeriod).
BORROWING_ADJUSTMENT_SECONDS = 10.0
# The longest a request waits in a queue before it is rejected. Kubernetes allows 15 s (a quarter
# of its 60 s request timeout), sized for servers whose requests take milliseconds. Here the
# mutating SLO is p99 <= 1 s as the client sees it: a request that waited longer than this and
# then executed (another 0.1-0.3 s under load) has broken it anyway, so it had better be told to
# come back later (Retry-After) while it still can, and its seat's worth of waiting go to others.
DEFAULT_REQUEST_WAIT_LIMIT = 0.5
# Entries kept in the classification and flow-hash caches before they are emptied.
_CACHE_SIZE = 4096


@dataclass(frozen=True)
class Rejection:
    """Why a request was not served, and how long its client should wait before trying again."""

    priority_level: str
    flow_schema: str
    reason: str  # queue-full, concurrency-limit or time-out
    retry_after: int
    # The objects' UIDs, which the REST door's X-Kubernetes-PF-* headers carry.
    priority_level_uid: str = ""
    flow_schema_uid: str = ""


class Seat:
    """An executing request's seat; release() gives it back (once, however often called)."""

    __slots__ = ("_queues", "_request", "flow_schema_uid", "priority_level", "priority_level_uid")

    def __init__(
        self, queues: QueueSet, request: Request, schema: FlowSchema, level: PriorityLevel
    ) -> None:
        self._queues = queues
        self._request: Request | None = request
        self.priority_level = queues.name
        self.priority_level_uid = level.uid
        self.flow_schema_uid = schema.uid

    def release(self) -> None:
        if self._request is not None:
            self._queues.finish(self._request)
            self._request = None


@dataclass
class _Level:
    config: PriorityLevel
    queues: QueueSet
    nominal: int
    lower: int  # nominal less what it may lend
    upper: int  # nominal plus what it may borrow
    stats: SeatDemandStats = field(default_factory=SeatDemandStats)


def _round(x: float) -> int:
    """Go's math.Round for the non-negative values here: halves away from zero."""
    return math.floor(x + 0.5)


class PriorityAndFairness:
    def __init__(
        self,
        server_concurrency_limit: int,
        request_wait_limit: float = DEFAULT_REQUEST_WAIT_LIMIT,
        levels: Sequence[PriorityLevel] | None = None,
        schemas: Sequence[FlowSchema] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Kubernetes' bootstrap configuration unless `levels` and `schemas` are given."""
        if server_concurrency_limit < 1:
            raise ValueError(
                f"the server concurrency limit must be >= 1, got {server_concurrency_limit}"
            )
        if request_wait_limit <= 0:
            raise ValueError(f"the request wait limit must be > 0, got {request_wait_limit}")
        self.server_concurrency_limit = server_concurrency_limit
        self.request_wait_limit = request_wait_limit
        self._clock = clock
        self.levels: dict[str, _Level] = {}
        self.schemas: list[FlowSchema] = []
        self.nominal_sum = 0
        self._catch_all: FlowSchema | None = None
        self._dropped = DroppedRequests()
        self._next_adjustment = clock() + BORROWING_ADJUSTMENT_SECONDS
        self._classified: dict[tuple[object, ...], FlowSchema] = {}
        self._hashes: dict[tuple[str, str], int] = {}
        if levels is None or schemas is None:
            default = bootstrap_digest()
            levels, schemas = default.levels, default.schemas
        self.reconfigure(levels, schemas)

    # ---------------------------------------------------------------- configuration
    def reconfigure(self, levels: Sequence[PriorityLevel], schemas: Sequence[FlowSchema]) -> None:
        """A new configuration, used from the next request on. A level whose queuing is
        unchanged keeps its queues, its requests and its current limit (within its new
        bounds); one whose queuing changed, or that is gone, keeps serving the requests it
        holds (their seats know it) and takes no new ones."""
        missing = {s.priority_level for s in schemas} - {level.name for level in levels}
        if missing:
            raise ValueError(f"flow schemas name unknown priority levels: {sorted(missing)}")
        share_sum = sum(level.shares for level in levels) or 1
        previous, self.levels = self.levels, {}
        for config in levels:
            self.levels[config.name] = self._level(config, share_sum, previous.get(config.name))
        self.nominal_sum = sum(level.nominal for level in self.levels.values())
        self.schemas = sorted(schemas, key=lambda s: (s.matching_precedence, s.name))
        self._catch_all = next(
            (s for s in self.schemas if s.name == flowcontrol.FLOW_SCHEMA_CATCH_ALL), None
        )
        self._classified.clear()
        self._hashes.clear()

    def _level(self, config: PriorityLevel, share_sum: int, old: _Level | None) -> _Level:
        limit = self.server_concurrency_limit
        nominal = math.ceil(limit * config.shares / share_sum)
        lendable = _round(nominal * config.lendable_percent / 100)
        borrowable = (
            limit
            if config.borrowing_limit_percent is None
            else _round(nominal * config.borrowing_limit_percent / 100)
        )
        lower, upper = nominal - lendable, nominal + borrowable
        if old is not None and (old.config.queuing, old.config.exempt) == (
            config.queuing,
            config.exempt,
        ):
            queues, stats = old.queues, old.stats
            queues.set_limit(min(max(queues.limit, lower), upper))
        else:
            # Kubernetes' initial limit, until the first adjustment.
            queues = QueueSet(
                config.name, nominal - lendable // 2, config.queuing, self._clock, config.exempt
            )
            stats = SeatDemandStats()
        NOMINAL_LIMIT.labels(config.name).set(nominal)
        LOWER_LIMIT.labels(config.name).set(lower)
        UPPER_LIMIT.labels(config.name).set(upper)
        CURRENT_LIMIT.labels(config.name).set(queues.limit)
        return _Level(config, queues, nominal, lower, upper, stats)

    # ---------------------------------------------------------------- classification
    def classify(self, r: RequestDigest) -> FlowSchema:
        """The first schema, by precedence, that matches the request (catch-all if none does)."""
        key = (
            r.user,
            r.verb,
            r.api_group,
            r.resource,
            r.subresource,
            bool(r.namespace),
            r.is_resource_request,
            r.path,
        )
        schema = self._classified.get(key)
        if schema is None:
            schema = next((s for s in self.schemas if s.matches(r)), self._catch_all)
            if schema is None:
                raise LookupError(f"no flow schema matches {r} and there is no catch-all")
            if len(self._classified) >= _CACHE_SIZE:
                self._classified.clear()
            self._classified[key] = schema
        return schema

    def _flow_hash(self, schema: FlowSchema, distinguisher: str) -> int:
        key = (schema.name, distinguisher)
        value = self._hashes.get(key)
        if value is None:
            if len(self._hashes) >= _CACHE_SIZE:
                self._hashes.clear()
            value = self._hashes[key] = hash_flow(schema.name, distinguisher)
        return value

    def wait_deadline(self, received_at: float, time_remaining: float | None) -> float:
        """Until when a request received at `received_at` (this object's clock) may wait: a
        quarter of the time its client gave it (Kubernetes' rule), at most request_wait_limit,
        both counted from when the server received it, as Kubernetes counts them."""
        limit = self.request_wait_limit
        if time_remaining is not None:
            given = self._clock() + time_remaining - received_at
            limit = max(min(limit, given / 4), 0.0)
        return received_at + limit

    # ---------------------------------------------------------------- admission
    async def admit(
        self,
        r: RequestDigest,
        time_remaining: float | None = None,
        received_at: float | None = None,
    ) -> Seat | Rejection:
        """A seat for the request, once it has one (at once, or after waiting its turn), or why it
        is rejected. `time_remaining`: the seconds its client still gives it, if it said;
        `received_at`: when the server received it (this object's clock; default now), so that
        the time it spent before reaching flow control counts against its wait. Cancelling the
        caller while it waits takes the request out of its queue."""
        schema = self.classify(r)
        level = self.levels[schema.priority_level]
        now = self._clock()
        if now >= self._next_adjustment:
            self.adjust_limits()
        queues = level.queues
        config = level.config
        hash_value = 0
        if config.queuing is not None and config.queuing.queues > 1:
            hash_value = self._flow_hash(schema, schema.flow_distinguisher(r))
        request = queues.start(hash_value, flow_metrics(config.name, schema.name))
        if request.state == EXECUTING:
            return Seat(queues, request, schema, config)
        if request.state == WAITING:
            deadline = self.wait_deadline(
                now if received_at is None else received_at, time_remaining
            )
            if deadline <= now:  # waited its fill before it even got here
                queues.time_out(request)
            elif await self._wait(queues, request, deadline - now):
                return Seat(queues, request, schema, config)
        return self._rejection(config, schema, request.reason)

    @staticmethod
    async def _wait(queues: QueueSet, request: Request, limit: float) -> bool:
        loop = asyncio.get_running_loop()
        decided: asyncio.Future[bool] = loop.create_future()

        def dispatched() -> None:
            if not decided.done():  # not cancelled meanwhile
                decided.set_result(True)

        def waited_too_long() -> None:
            if queues.time_out(request) and not decided.done():
                decided.set_result(False)

        request.on_dispatch = dispatched
        timer = loop.call_later(limit, waited_too_long)
        try:
            return await decided
        except asyncio.CancelledError:  # the client went away: out of the queue, or the seat back
            if not queues.time_out(request) and request.state == EXECUTING:
                queues.finish(request)
            raise
        finally:
            timer.cancel()

    def _rejection(self, level: PriorityLevel, schema: FlowSchema, reason: str) -> Rejection:
        self._dropped.record(level.name, int(self._clock()))
        return Rejection(
            level.name,
            schema.name,
            reason,
            self._dropped.retry_after(level.name),
            level.uid,
            schema.uid,
        )

    # ---------------------------------------------------------------- borrowing
    def adjust_limits(self) -> None:
        """Each level's limit for the next period, from its seat demand in the last
        (apf_controller.go updateBorrowingLocked): at least its lower bound and, up to its
        nominal seats, the most it used; beyond that, the seats go where demand is, in proportion
        to each level's smoothed demand, up to each level's upper bound. The exempt level takes
        part as Kubernetes 1.28+ has it, with no nominal seats (so a floor of none) and its
        demand as its target: a flood of exempt requests shares out the seats the others would
        borrow, never those a busy level has up to its nominal."""
        now = self._clock()
        self._next_adjustment = now + BORROWING_ADJUSTMENT_SECONDS
        levels = list(self.levels.values())
        items: list[AllocationItem] = []
        for level in levels:
            level.stats.update(level.queues.seat_demand.reset(now))
            floor = max(level.lower, min(level.nominal, level.stats.high_watermark))
            items.append(
                AllocationItem(floor, level.upper, max(float(floor), level.stats.smoothed))
            )
        try:
            limits = [_round(a) for a in allocate(self.nominal_sum, items)[0]]
        except ValueError:  # keep the current limits, as Kubernetes does
            limits = [level.queues.limit for level in levels]
        # The exempt level's limit is reported, never applied (its queues execute everything).
        for level, limit in zip(levels, limits, strict=True):
            level.queues.set_limit(limit)
            CURRENT_LIMIT.labels(level.config.name).set(limit)
