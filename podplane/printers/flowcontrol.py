"""The flow schema and priority level tables, as printFlowSchema and
printPriorityLevelConfiguration (kubernetes pkg/printers/internalversion/printers.go): a schema's
level, precedence, distinguisher and whether its level is missing (its Dangling condition's
status, "?" before the apiserver has written one); a level's type, shares and queuing ("<none>"
where it has none)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from podplane.api.flowcontrol.v1 import flowcontrol_pb2 as fc
from podplane.apimachinery import flowcontrol
from podplane.apimachinery.timeutil import human_age
from podplane.printers.spec import Cell, Column, TableSpec, age_column, name_column

NONE = "<none>"


def flow_schema_row(fs: fc.FlowSchema, now: datetime) -> list[Cell]:
    spec = fs.spec
    distinguisher = (
        spec.distinguisher_method.type if spec.HasField("distinguisher_method") else NONE
    )
    missing = next(
        (c.status for c in fs.status.conditions if c.type == flowcontrol.CONDITION_DANGLING), "?"
    )
    return [
        fs.metadata.name,
        spec.priority_level_configuration.name,
        spec.matching_precedence,
        distinguisher,
        human_age(fs.metadata.creation_timestamp, now),
        missing,
    ]


def by_precedence(schemas: Sequence[fc.FlowSchema]) -> list[fc.FlowSchema]:
    """printFlowSchemaList's order (FlowSchemaSequence): by precedence, then name."""
    return sorted(schemas, key=lambda fs: (fs.spec.matching_precedence, fs.metadata.name))


def priority_level_row(pl: fc.PriorityLevelConfiguration, now: datetime) -> list[Cell]:
    shares: Cell = NONE
    queues: Cell = NONE
    hand_size: Cell = NONE
    queue_length_limit: Cell = NONE
    if pl.spec.HasField("limited"):
        limited = pl.spec.limited
        shares = limited.nominal_concurrency_shares
        if limited.limit_response.HasField("queuing"):
            q = limited.limit_response.queuing
            queues, hand_size, queue_length_limit = q.queues, q.hand_size, q.queue_length_limit
    return [
        pl.metadata.name,
        pl.spec.type,
        shares,
        queues,
        hand_size,
        queue_length_limit,
        human_age(pl.metadata.creation_timestamp, now),
    ]


FLOW_SCHEMA_TABLE = TableSpec(
    columns=(
        name_column(),
        Column(
            "PriorityLevel",
            "string",
            "`name` is the name of the priority level configuration being referenced Required.",
        ),
        Column(
            "MatchingPrecedence",
            "string",
            "`matchingPrecedence` is used to choose among the FlowSchemas that match a given "
            "request. The chosen FlowSchema is among those with the numerically lowest (which we "
            "take to be logically highest) MatchingPrecedence.  Each MatchingPrecedence value "
            "must be ranged in [1,10000]. Note that if the precedence is not specified, it will "
            "be set to 1000 as default.",
        ),
        Column(
            "DistinguisherMethod",
            "string",
            "`distinguisherMethod` defines how to compute the flow distinguisher for requests "
            "that match this schema. `nil` specifies that the distinguisher is disabled and thus "
            "will always be the empty string.",
        ),
        age_column(),
        Column(
            "MissingPL", "string", "references a broken or non-existent PriorityLevelConfiguration"
        ),
    ),
    row=flow_schema_row,
    order=by_precedence,
)
PRIORITY_LEVEL_TABLE = TableSpec(
    columns=(
        name_column(),
        Column(
            "Type",
            "string",
            "`type` indicates whether this priority level is subject to limitation on request "
            'execution.  A value of `"Exempt"` means that requests of this priority level are '
            "not subject to a limit (and thus are never queued) and do not detract from the "
            'capacity made available to other priority levels.  A value of `"Limited"` means '
            "that (a) requests of this priority level _are_ subject to limits and (b) some of "
            "the server's limited capacity is made available exclusively to this priority "
            "level. Required.",
        ),
        Column(
            "NominalConcurrencyShares",
            "string",
            "`nominalConcurrencyShares` (NCS) contributes to the computation of the "
            "NominalConcurrencyLimit (NominalCL) of this level. This is the number of execution "
            "seats available at this priority level. This is used both for requests dispatched "
            "from this priority level as well as requests dispatched from other priority levels "
            "borrowing seats from this level. The server's concurrency limit (ServerCL) is "
            "divided among the Limited priority levels in proportion to their NCS values:\n\n"
            "NominalCL(i)  = ceil( ServerCL * NCS(i) / sum_ncs ) sum_ncs = sum[priority level "
            "k] NCS(k)\n\nBigger numbers mean a larger nominal concurrency limit, at the expense "
            "of every other priority level.\n\nIf not specified, this field defaults to a value "
            'of 30.\n\nSetting this field to zero supports the construction of a "jail" for '
            "this priority level that is used to hold some request(s)",
        ),
        Column(
            "Queues",
            "string",
            "`queues` is the number of queues for this priority level. The queues exist "
            "independently at each apiserver. The value must be positive.  Setting it to 1 "
            "effectively precludes shufflesharding and thus makes the distinguisher method of "
            "associated flow schemas irrelevant.  This field has a default value of 64.",
        ),
        Column(
            "HandSize",
            "string",
            "`handSize` is a small positive number that configures the shuffle sharding of "
            "requests into queues.  When enqueuing a request at this priority level the "
            "request's flow identifier (a string pair) is hashed and the hash value is used to "
            "shuffle the list of queues and deal a hand of the size specified here.  The request "
            "is put into one of the shortest queues in that hand. `handSize` must be no larger "
            "than `queues`, and should be significantly smaller (so that a few heavy flows do "
            "not saturate most of the queues).  See the user-facing documentation for more "
            "extensive guidance on setting this field.  This field has a default value of 8.",
        ),
        Column(
            "QueueLengthLimit",
            "string",
            "`queueLengthLimit` is the maximum number of requests allowed to be waiting in a "
            "given queue of this priority level at a time; excess requests are rejected.  This "
            "value must be positive.  If not specified, it will be defaulted to 50.",
        ),
        age_column(),
    ),
    row=priority_level_row,
)
