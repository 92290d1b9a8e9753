"""Fair queuing for server requests: one priority level's queues and seats
(k8s.io/apiserver/pkg/util/flowcontrol/fairqueuing/queueset).

Each flow is shuffle-sharded to a hand of queues and joins the one with the least waiting work; a
request that finds every seat taken and its queue at its length limit is rejected (queue-full).
Whenever a seat is free, the request dispatched is the head of the queue whose next request would
finish first in virtual time, as in fair queuing for networks (Demers, Keshav, Shenker), adapted
the way Kubernetes adapts it to C seats and service times only known afterwards:

- virtual time R (seat-seconds given to each busy queue since start) advances at
  min(C, seats in use + seats waiting) / (number of busy queues) per real second;
- every request is guessed to take G seat-seconds: dispatching a queue's head advances the queue's
  next dispatch time by G; when it finishes after S seconds, by S - G more;
- the queue with the least next dispatch time goes next (round robin among ties), and a queue's
  next dispatch time never trails its head's arrival time (anti-windup).

So a flow that keeps many requests waiting is served at its share of the seats, while a flow that
sends rarely is served at once: no flow can starve another on the same level. Every request takes
one seat (Kubernetes estimates wider LISTs and mutating requests with many watchers; podplane does
not). A level without queues (catch-all) rejects when its seats are taken (concurrency-limit); the
exempt level executes everything at once and only counts.

One event loop drives every call, so there are no locks; the caller supplies the clock, so the
dispatch order can be tested without waiting."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from apiserver.flowcontrol.configuration import Queuing
from apiserver.flowcontrol.metrics import FlowMetrics
from apiserver.flowcontrol.seat_demand import Integrator
from apiserver.flowcontrol.shufflesharding import Dealer

# G: the service time every request is guessed to take (Kubernetes' 3 ms).
ESTIMATED_SERVICE_SECONDS = 0.003

# Flows whose hand is kept (they are few: users, namespaces).
MAX_HANDS = 4096

WAITING, EXECUTING, REJECTED, FINISHED = "waiting", "executing", "rejected", "finished"
QUEUE_FULL, CONCURRENCY_LIMIT, TIME_OUT = "queue-full", "concurrency-limit", "time-out"


class Request:
    """One request's passage through a queue set: waiting, then executing, then finished; or
    rejected (`reason`), at arrival or after waiting. `on_dispatch` is called when a waiting request
    is dispatched."""

    __slots__ = (
        "arrival_r",
        "arrival_time",
        "flow",
        "metrics",
        "on_dispatch",
        "queue",
        "reason",
        "start_time",
        "state",
    )

    def __init__(
        self, queue: _Queue | None, metrics: FlowMetrics, flow: str, now: float, r: float
    ) -> None:
        self.queue = queue
        self.metrics = metrics
        self.flow = flow
        self.arrival_time = now
        self.arrival_r = r
        self.start_time = now
        self.state = WAITING
        self.reason = ""
        self.on_dispatch: Callable[[], None] | None = None


class _Queue:
    __slots__ = ("executing", "index", "next_dispatch_r", "waiting")

    def __init__(self, index: int) -> None:
        self.index = index
        self.waiting: deque[Request] = deque()
        self.executing = 0
        self.next_dispatch_r = 0.0

    @property
    def idle(self) -> bool:
        return not self.waiting and not self.executing


class QueueSet:
    def __init__(
        self,
        name: str,
        concurrency_limit: int,
        queuing: Queuing | None,
        clock: Callable[[], float],
        exempt: bool = False,
    ) -> None:
        self.name = name
        self.limit = concurrency_limit
        self.exempt = exempt
        self._clock = clock
        self._dealer = Dealer(queuing.queues, queuing.hand_size) if queuing else None
        self.queue_length_limit = max(queuing.queue_length_limit, 1) if queuing else 0
        self.queues = [_Queue(i) for i in range(queuing.queues)] if queuing else []
        self._with_waiting: set[_Queue] = set()
        # Each flow's hand of queues, dealt once (a deal is most of a request's queuing cost).
        self._hands: dict[int, list[int]] = {}
        self._busy_queues = 0  # queues with a request waiting or executing
        self._enqueues = 0
        self._robin_index = -1
        self.current_r = 0.0
        self._last_time = clock()
        self.waiting = 0
        self.executing = 0
        self.seat_demand = Integrator(self._last_time)
        # Totals, for tests and debugging.
        self.dispatched = 0
        self.rejected = 0

    # ---------------------------------------------------------------- the requests' lifecycle
    def start(self, hash_value: int, metrics: FlowMetrics, flow: str = "") -> Request:
        """A request arrives: executing at once, waiting in its flow's queue, or rejected."""
        now = self._sync_time()
        if not self.queues:
            request = Request(None, metrics, flow, now, self.current_r)
            if self.exempt or self._can_accommodate():
                self._execute(request, now)
            else:
                self._reject(request, CONCURRENCY_LIMIT, now)
            self._note_demand(now)
            return request
        queue = self._shuffle_shard(hash_value)
        request = Request(queue, metrics, flow, now, self.current_r)
        if self.executing >= self.limit and len(queue.waiting) >= self.queue_length_limit:
            self._reject(request, QUEUE_FULL, now)
            return request
        if queue.idle:
            queue.next_dispatch_r = self.current_r
            self._busy_queues += 1
        if not self.waiting and self._can_accommodate():
            # Nothing waits anywhere: it would be enqueued and dispatched at once. Do just that
            # without passing through the queue.
            self._start_executing(queue, request, now)
            self._note_demand(now)
            return request
        queue.waiting.append(request)
        self._with_waiting.add(queue)
        self.waiting += 1
        metrics.inqueue.inc()
        self._bound_next_dispatch(queue)
        self._dispatch_as_much_as_possible(now)
        self._note_demand(now)
        return request

    def finish(self, request: Request) -> None:
        """An executing request is done: its seat goes to the next waiting request, if any."""
        if request.state != EXECUTING:
            return
        now = self._sync_time()
        request.state = FINISHED
        self.executing -= 1
        request.metrics.executing.dec()
        queue = request.queue
        if queue is not None:
            queue.executing -= 1
            # The guess G was charged at dispatch; charge what the request really took instead.
            queue.next_dispatch_r += (now - request.start_time) - ESTIMATED_SERVICE_SECONDS
            self._bound_next_dispatch(queue)
            if queue.idle:
                self._busy_queues -= 1
        self._dispatch_as_much_as_possible(now)
        self._note_demand(now)

    def time_out(self, request: Request) -> bool:
        """Takes a request that is still waiting out of its queue, rejected (time-out: it waited
        too long, or its client went away); False if it was dispatched or decided already."""
        if request.state != WAITING or request.queue is None:
            return False
        now = self._sync_time()
        queue = request.queue
        queue.waiting.remove(request)
        if not queue.waiting:
            self._with_waiting.discard(queue)
        self.waiting -= 1
        request.metrics.inqueue.dec()
        self._bound_next_dispatch(queue)
        if queue.idle:
            self._busy_queues -= 1
        self._reject(request, TIME_OUT, now)
        self._note_demand(now)
        return True

    def set_limit(self, concurrency_limit: int) -> None:
        """A new concurrency limit (borrowing): more seats dispatch waiting requests at once."""
        now = self._sync_time()
        self.limit = concurrency_limit
        self._dispatch_as_much_as_possible(now)
        self._note_demand(now)

    # ---------------------------------------------------------------- the mechanism
    def _sync_time(self) -> float:
        """Advances virtual time to now, at the rate the state since the last change implies."""
        now = self._clock()
        elapsed = now - self._last_time
        self._last_time = now
        if elapsed > 0 and self._busy_queues:
            seats = min(self.executing + self.waiting, self.limit)
            self.current_r += elapsed * seats / self._busy_queues
        return now

    def _shuffle_shard(self, hash_value: int) -> _Queue:
        """Of the flow's hand of queues, the one with the least waiting work (every request's
        work being G, the shortest), starting from a rotating offset so that ties spread."""
        hand = self._hands.get(hash_value)
        if hand is None:
            assert self._dealer is not None
            if len(self._hands) >= MAX_HANDS:
                self._hands.clear()
            hand = self._hands[hash_value] = self._dealer.deal(hash_value)
        offset = self._enqueues % len(hand)
        self._enqueues += 1
        if not self.waiting:  # every queue empty: the first looked at is the least loaded
            return self.queues[hand[offset]]
        best: _Queue | None = None
        for i in range(len(hand)):
            queue = self.queues[hand[(offset + i) % len(hand)]]
            if best is None or len(queue.waiting) < len(best.waiting):
                best = queue
        assert best is not None
        return best

    def _can_accommodate(self) -> bool:
        # A level with no seats at all still runs one request at a time.
        return self.executing < self.limit or (self.limit < 1 and self.executing == 0)

    def _dispatch_as_much_as_possible(self, now: float) -> None:
        while self.waiting and self._can_accommodate():
            self._dispatch_one(now)

    def _dispatch_one(self, now: float) -> None:
        """Dispatches the head of the queue whose next request finishes first in virtual time:
        the least next dispatch time (every request's work being G), ties going to the first
        queue after the last one dispatched from."""
        n = len(self.queues)
        robin = self._robin_index
        queue = min(
            self._with_waiting,
            key=lambda q: (q.next_dispatch_r, (q.index - robin - 1) % n),
        )
        request = queue.waiting.popleft()
        if not queue.waiting:
            self._with_waiting.discard(queue)
        self.waiting -= 1
        request.metrics.inqueue.dec()
        self._start_executing(queue, request, now)
        if request.on_dispatch is not None:
            request.on_dispatch()

    def _start_executing(self, queue: _Queue, request: Request, now: float) -> None:
        self._robin_index = queue.index
        queue.executing += 1
        queue.next_dispatch_r += ESTIMATED_SERVICE_SECONDS
        self._bound_next_dispatch(queue)
        self._execute(request, now)

    def _execute(self, request: Request, now: float) -> None:
        request.state = EXECUTING
        request.start_time = now
        self.executing += 1
        self.dispatched += 1
        request.metrics.executing.inc()
        request.metrics.dispatched.inc()
        if not self.exempt:
            request.metrics.waited_executed.observe(now - request.arrival_time)

    def _reject(self, request: Request, reason: str, now: float) -> None:
        request.state = REJECTED
        request.reason = reason
        self.rejected += 1
        request.metrics.rejected(reason)
        request.metrics.waited_rejected.observe(now - request.arrival_time)

    @staticmethod
    def _bound_next_dispatch(queue: _Queue) -> None:
        """Anti-windup: a queue that could not use its share does not bank it for later."""
        if queue.waiting and queue.next_dispatch_r < queue.waiting[0].arrival_r:
            queue.next_dispatch_r = queue.waiting[0].arrival_r

    def _note_demand(self, now: float) -> None:
        self.seat_demand.set(self.executing + self.waiting, now)
