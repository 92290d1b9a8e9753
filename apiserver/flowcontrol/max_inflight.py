"""The overload guard's accounting (k8s.io/apiserver/pkg/server/filters/maxinflight.go): at most N
read-only and M mutating requests are served at once; one more is refused at once ("Too many
requests, please try again later.", Kubernetes' 429, with a retry-after hint of 1 s) instead of
queueing behind the others and slowing every caller down. Each front door's filter (the gRPC
door's is apiserver/endpoints/grpc/interceptors/max_inflight.py) takes and gives back the slots
and answers the refusal in its own protocol.

Long-running requests (watch, log, exec, attach) hold no slot: they last for minutes by design.
Members of system:masters are always served, as in Kubernetes (a super-admin must be able to act
on an overloaded cluster). A limit of 0 disables that kind's guard; both 0 disables it altogether.

Rejected requests are counted by apiserver_dropped_requests_total and
apiserver_request_terminations_total, never as served."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import Counter

from apiserver.auth.user import MASTERS_GROUP, UserInfo

# The request kinds, each with its own limit (and the label of the in-flight metrics).
READ_ONLY, MUTATING = "readOnly", "mutating"
# An eighth of kube-apiserver's 400 and 200, which are sized for a Go server on many cores: this
# one serves on one event loop, where every request executing at once makes each loop turn, and
# so every other request, slower. With API Priority and Fairness their sum is the server's seats:
# `podplane-bench apiserver-overload` (800 writers, 2 loaded cores) measured the writers' accepted
# p99 at 0.9 s with 75 seats (their level borrowing up to 51), 2.0-2.6 s with 150 (up to 100), as
# the max-in-flight guard alone measured 0.68-0.80 s at a mutating limit of 50, 1.4-2.0 s at 100.
DEFAULT_MAX_REQUESTS_INFLIGHT = 50
DEFAULT_MAX_MUTATING_REQUESTS_INFLIGHT = 25
TOO_MANY_REQUESTS = "Too many requests, please try again later."
# Kubernetes' fixed Retry-After (seconds).
RETRY_AFTER_SECONDS = "1"
COMPONENT = "apiserver"

DROPPED_REQUESTS = Counter(
    "apiserver_dropped_requests_total",
    "Number of requests dropped with 'Try again later' response.",
    ["request_kind"],
)
REQUEST_TERMINATIONS = Counter(
    "apiserver_request_terminations_total",
    "Number of requests which apiserver terminated in self-defense, by verb, resource, "
    "subresource, component and gRPC status code.",
    ["verb", "resource", "subresource", "component", "code"],
)

for _kind in (READ_ONLY, MUTATING):
    DROPPED_REQUESTS.labels(_kind)  # both series exist from the start, at 0


@dataclass
class InflightSlots:
    """The requests of one kind being served, against its limit. A plain counter is enough: the
    server's calls all run on one event loop thread, so check-and-take cannot interleave."""

    limit: int
    in_use: int = 0

    def full(self) -> bool:
        return self.in_use >= self.limit

    def try_acquire(self) -> bool:
        if self.full():
            return False
        self.in_use += 1
        return True

    def release(self) -> None:
        self.in_use -= 1


@dataclass
class MaxInflight:
    """--max-requests-inflight (read-only) and --max-mutating-requests-inflight; 0 = no limit.
    One per server, shared by its front doors: the limits are the server's."""

    max_requests_inflight: int = DEFAULT_MAX_REQUESTS_INFLIGHT
    max_mutating_requests_inflight: int = DEFAULT_MAX_MUTATING_REQUESTS_INFLIGHT
    # The limited kinds' slots (a kind whose limit is 0 has none).
    slots: dict[str, InflightSlots] = field(init=False)

    def __post_init__(self) -> None:
        for flag, value in (
            ("max_requests_inflight", self.max_requests_inflight),
            ("max_mutating_requests_inflight", self.max_mutating_requests_inflight),
        ):
            if value < 0:
                raise ValueError(f"--{flag.replace('_', '-')}: must be >= 0, got {value}")
        self.slots = {
            kind: InflightSlots(limit)
            for kind, limit in (
                (READ_ONLY, self.max_requests_inflight),
                (MUTATING, self.max_mutating_requests_inflight),
            )
            if limit > 0
        }


def exempt(user: UserInfo | None) -> bool:
    """Whether a caller is served past the limits: system:masters is."""
    return user is not None and MASTERS_GROUP in user.groups


def count_rejection(
    request_kind: str, verb: str, resource: str, subresource: str, code: str
) -> None:
    """Counts a refused request; `code` is the status the door answers it with."""
    DROPPED_REQUESTS.labels(request_kind).inc()
    REQUEST_TERMINATIONS.labels(verb, resource, subresource, COMPONENT, code).inc()
