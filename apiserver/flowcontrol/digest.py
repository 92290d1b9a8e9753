"""The filter's configuration from the FlowSchema and PriorityLevelConfiguration objects
(apf_controller.go's cfgMeal, Kubernetes 1.31): every level whose spec the queues can use (a
broken one is ignored); every schema whose level exists, the others left out and marked Dangling;
the mandatory exempt and catch-all levels and schemas imagined from Kubernetes' bootstrap
configuration while the API holds none of that name. Also the Dangling condition each schema
should have, where it has another."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from apiserver.flowcontrol.configuration import (
    FlowSchema,
    NonResourceRule,
    PolicyRules,
    PriorityLevel,
    Queuing,
    ResourceRule,
    Subject,
)
from podplane.api.flowcontrol.v1 import flowcontrol_pb2 as fc
from podplane.apimachinery import flowcontrol
from podplane.apimachinery import flowcontrol_bootstrap as bootstrap
from podplane.apimachinery.flowcontrol import MAX_HASH_BITS, required_entropy_bits


@dataclass
class Digest:
    levels: list[PriorityLevel] = field(default_factory=list)
    schemas: list[FlowSchema] = field(default_factory=list)
    # Schemas whose Dangling condition is not yet what it should be, with that condition.
    conditions: list[tuple[fc.FlowSchema, fc.FlowSchemaCondition]] = field(default_factory=list)


def priority_level(pl: fc.PriorityLevelConfiguration) -> PriorityLevel | None:
    """The level a PriorityLevelConfiguration describes; None if its spec is broken
    (queueSetCompleterForPL: a type and union that disagree, queuing shuffle sharding cannot
    deal)."""
    spec = pl.spec
    name = pl.metadata.name
    exempt = spec.type == flowcontrol.TYPE_EXEMPT
    if (spec.type == flowcontrol.TYPE_LIMITED) != spec.HasField("limited"):
        return None
    if exempt != (name == flowcontrol.PRIORITY_LEVEL_EXEMPT) or (
        exempt and spec.HasField("limited")
    ):
        return None
    if exempt:
        e = spec.exempt
        return PriorityLevel(
            name, e.nominal_concurrency_shares, e.lendable_percent, exempt=True, uid=pl.metadata.uid
        )
    limited = spec.limited
    response = limited.limit_response
    queuing = None
    if (response.type == flowcontrol.LIMIT_RESPONSE_REJECT) == response.HasField("queuing"):
        return None
    if response.HasField("queuing"):
        q = response.queuing
        if not (0 < q.hand_size <= q.queues and q.queue_length_limit > 0):
            return None
        if required_entropy_bits(q.queues, q.hand_size) > MAX_HASH_BITS:
            return None
        queuing = Queuing(q.queues, q.hand_size, q.queue_length_limit)
    return PriorityLevel(
        name,
        limited.nominal_concurrency_shares,
        limited.lendable_percent,
        limited.borrowing_limit_percent if limited.HasField("borrowing_limit_percent") else None,
        queuing,
        uid=pl.metadata.uid,
    )


def _subject(s: fc.Subject) -> Subject | None:
    if s.kind == flowcontrol.SUBJECT_USER and s.HasField("user"):
        return Subject(s.kind, s.user.name)
    if s.kind == flowcontrol.SUBJECT_GROUP and s.HasField("group"):
        return Subject(s.kind, s.group.name)
    if s.kind == flowcontrol.SUBJECT_SERVICE_ACCOUNT and s.HasField("service_account"):
        return Subject(s.kind, s.service_account.name, s.service_account.namespace)
    return None  # matches nobody


def flow_schema(fs: fc.FlowSchema) -> FlowSchema:
    rules = tuple(
        PolicyRules(
            tuple(s for s in map(_subject, rule.subjects) if s is not None),
            tuple(
                ResourceRule(
                    tuple(r.verbs),
                    tuple(r.api_groups),
                    tuple(r.resources),
                    tuple(r.namespaces),
                    r.cluster_scope,
                )
                for r in rule.resource_rules
            ),
            tuple(
                NonResourceRule(tuple(n.verbs), tuple(n.non_resource_urls))
                for n in rule.non_resource_rules
            ),
        )
        for rule in fs.spec.rules
    )
    method = fs.spec.distinguisher_method
    return FlowSchema(
        fs.metadata.name,
        fs.spec.priority_level_configuration.name,
        fs.spec.matching_precedence,
        method.type if fs.spec.HasField("distinguisher_method") else None,
        rules,
        uid=fs.metadata.uid,
    )


def dangling_condition(
    fs: fc.FlowSchema, dangling: bool, now: str
) -> fc.FlowSchemaCondition | None:
    """The Dangling condition `fs` should have, if it has another (presyncFlowSchemaStatus)."""
    level = fs.spec.priority_level_configuration.name
    if dangling:
        status, reason = "True", "NotFound"
        message = (
            f"This FlowSchema references the PriorityLevelConfiguration object named "
            f'"{level}" but there is no such object'
        )
    else:
        status, reason = "False", "Found"
        message = (
            f"This FlowSchema references the PriorityLevelConfiguration object named "
            f'"{level}" and it exists'
        )
    for c in fs.status.conditions:
        if c.type == flowcontrol.CONDITION_DANGLING:
            if (c.status, c.reason, c.message) == (status, reason, message):
                return None
            break
    return fc.FlowSchemaCondition(
        type=flowcontrol.CONDITION_DANGLING,
        status=status,
        last_transition_time=now,
        reason=reason,
        message=message,
    )


def digest(
    levels: Iterable[fc.PriorityLevelConfiguration],
    schemas: Iterable[fc.FlowSchema],
    now: str = "",
) -> Digest:
    """The configuration the objects make (`now`: the time a changed condition is stamped)."""
    out = Digest()
    for pl in levels:
        level = priority_level(pl)
        if level is not None:
            out.levels.append(level)
    known = {level.name for level in out.levels}
    for fs in schemas:
        good = fs.spec.priority_level_configuration.name in known
        condition = dangling_condition(fs, not good, now)
        if condition is not None:
            out.conditions.append((fs, condition))
        if good:
            out.schemas.append(flow_schema(fs))
    for pl in bootstrap.mandatory_priority_levels():
        if pl.metadata.name not in known:
            imagined = priority_level(pl)
            assert imagined is not None  # Kubernetes' own, never broken
            out.levels.append(imagined)
    names = {s.name for s in out.schemas}
    for fs in bootstrap.mandatory_flow_schemas():
        if fs.metadata.name not in names:
            out.schemas.append(flow_schema(fs))
    return out


def bootstrap_digest() -> Digest:
    """The configuration of Kubernetes' bootstrap objects (before the API has been read)."""
    return digest(
        bootstrap.mandatory_priority_levels() + bootstrap.suggested_priority_levels(),
        bootstrap.mandatory_flow_schemas() + bootstrap.suggested_flow_schemas(),
    )
