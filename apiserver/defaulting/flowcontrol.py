"""Defaults of flowcontrol.apiserver.k8s.io/v1 (kubernetes pkg/apis/flowcontrol/v1/defaults.go):
a FlowSchema's matchingPrecedence 1000; a Limited level's nominalConcurrencyShares 30 when unset
(an explicit 0 stays: a "jail" level) and lendablePercent 0, its queuing 64 queues, hand size 8,
queue length 50 where zero; an exempt level's shares and lendable percent 0 when it has
`spec.exempt`."""

from __future__ import annotations

from podplane.api.flowcontrol.v1 import flowcontrol_pb2 as fc

DEFAULT_MATCHING_PRECEDENCE = 1000
DEFAULT_NOMINAL_CONCURRENCY_SHARES = 30
DEFAULT_QUEUES = 64
DEFAULT_HAND_SIZE = 8
DEFAULT_QUEUE_LENGTH_LIMIT = 50


def flow_schema(obj: fc.FlowSchema) -> None:
    if obj.spec.matching_precedence == 0:
        obj.spec.matching_precedence = DEFAULT_MATCHING_PRECEDENCE


def priority_level(obj: fc.PriorityLevelConfiguration) -> None:
    spec = obj.spec
    if spec.HasField("limited"):
        limited = spec.limited
        if not limited.HasField("nominal_concurrency_shares"):
            limited.nominal_concurrency_shares = DEFAULT_NOMINAL_CONCURRENCY_SHARES
        if not limited.HasField("lendable_percent"):
            limited.lendable_percent = 0
        if limited.limit_response.HasField("queuing"):
            q = limited.limit_response.queuing
            q.hand_size = q.hand_size or DEFAULT_HAND_SIZE
            q.queues = q.queues or DEFAULT_QUEUES
            q.queue_length_limit = q.queue_length_limit or DEFAULT_QUEUE_LENGTH_LIMIT
    if spec.HasField("exempt"):
        exempt = spec.exempt
        if not exempt.HasField("nominal_concurrency_shares"):
            exempt.nominal_concurrency_shares = 0
        if not exempt.HasField("lendable_percent"):
            exempt.lendable_percent = 0
