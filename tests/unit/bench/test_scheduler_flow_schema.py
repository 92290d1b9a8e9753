"""The scheduler load test's own cluster classifies its (anonymous) callers as scheduler_perf's
are, exempt (bench/scheduler/flow_schemas.py): a copy of Kubernetes' mandatory exempt schema
for system:unauthenticated that the apiserver's validation takes, and that its flow control
classifies the scheduler's binds and events, the load's creates and the nodes' heartbeats by,
once its configuration consumer has said so."""

from __future__ import annotations

import asyncio
from typing import cast

import pytest

from apiserver.auth.user import ANONYMOUS, AUTHENTICATED_GROUP, UserInfo
from apiserver.flowcontrol.digest import digest
from apiserver.flowcontrol.priority_and_fairness import PriorityAndFairness
from apiserver.flowcontrol.request import RequestDigest
from apiserver.validation import flowcontrol as validation
from bench.scheduler import flow_schemas
from podplane.api.flowcontrol.v1 import flowcontrol_pb2 as fc
from podplane.apimachinery import flowcontrol
from podplane.apimachinery import flowcontrol_bootstrap as bootstrap
from podplane.client.clientset import Client

BIND = RequestDigest(ANONYMOUS, "create", "pods", "", "binding", "bench", "pod-1")
EVENT = RequestDigest(ANONYMOUS, "create", "events", "", namespace="bench")
POD = RequestDigest(ANONYMOUS, "create", "pods", "", namespace="bench")
HEARTBEAT = RequestDigest(
    ANONYMOUS, "update", "leases", "coordination.k8s.io", namespace="kube-node-lease", name="n"
)
VIEWER = RequestDigest(
    UserInfo("viewer", frozenset({AUTHENTICATED_GROUP})), "create", "pods", "", namespace="bench"
)


def _apf(*extra: fc.FlowSchema) -> PriorityAndFairness:
    levels = bootstrap.mandatory_priority_levels() + bootstrap.suggested_priority_levels()
    schemas = bootstrap.mandatory_flow_schemas() + bootstrap.suggested_flow_schemas()
    apf = PriorityAndFairness(75)
    meal = digest(levels, [*schemas, *extra], "now")
    apf.reconfigure(meal.levels, meal.schemas)
    return apf


def test_the_schema_is_kubernetes_exempt_one_for_anonymous_callers() -> None:
    schema = flow_schemas.anonymous_exempt()
    assert validation.flow_schema(schema) == []
    exempt = next(s for s in bootstrap.mandatory_flow_schemas() if s.metadata.name == "exempt")
    assert schema.metadata.name == "podplane-bench-exempt"
    assert schema.spec.priority_level_configuration.name == "exempt"
    assert schema.spec.matching_precedence == 3  # the exempt schema's 1 is its alone
    assert [r.resource_rules for r in schema.spec.rules] == [
        r.resource_rules for r in exempt.spec.rules
    ]
    assert [s.group.name for r in schema.spec.rules for s in r.subjects] == [
        "system:unauthenticated"
    ]


@pytest.mark.parametrize("request_", [BIND, EVENT, POD, HEARTBEAT])
def test_anonymous_requests_are_exempt_with_it_and_global_default_without(
    request_: RequestDigest,
) -> None:
    before = _apf().classify(request_)
    assert (before.name, before.priority_level) == ("global-default", "global-default")
    after = _apf(_with_uid(flow_schemas.anonymous_exempt())).classify(request_)
    assert (after.name, after.priority_level) == ("podplane-bench-exempt", "exempt")


def test_authenticated_callers_keep_their_schemas() -> None:
    matched = _apf(_with_uid(flow_schemas.anonymous_exempt())).classify(VIEWER)
    assert (matched.name, matched.priority_level) == ("global-default", "global-default")


def _with_uid(schema: fc.FlowSchema) -> fc.FlowSchema:
    schema.metadata.uid = "uid-bench"
    return schema


class _FlowSchemas:
    """The apiserver's FlowSchemas as the bench sees them: the condition appears after
    `consumed_after` reads (its configuration consumer's turn), or never."""

    def __init__(self, consumed_after: int | None) -> None:
        self.consumed_after = consumed_after
        self.created: list[fc.FlowSchema] = []
        self.reads = 0

    async def create(self, obj: fc.FlowSchema) -> fc.FlowSchema:
        self.created.append(obj)
        return obj

    async def get(self, name: str, namespace: str = "") -> fc.FlowSchema:
        self.reads += 1
        out = fc.FlowSchema()
        out.CopyFrom(next(s for s in self.created if s.metadata.name == name))
        if self.consumed_after is not None and self.reads >= self.consumed_after:
            out.status.conditions.add(type=flowcontrol.CONDITION_DANGLING, status="False")
        return out


class _Client:
    def __init__(self, schemas: _FlowSchemas) -> None:
        self.flowschemas = schemas


def test_the_run_waits_until_the_apiserver_classifies_by_it() -> None:
    schemas = _FlowSchemas(consumed_after=3)
    name = asyncio.run(flow_schemas.exempt_anonymous_callers(cast(Client, _Client(schemas))))
    assert name == "podplane-bench-exempt"
    assert [s.metadata.name for s in schemas.created] == ["podplane-bench-exempt"]
    assert schemas.reads == 3


def test_a_schema_never_taken_in_stops_the_run_naming_it() -> None:
    schemas = _FlowSchemas(consumed_after=None)
    client = cast(Client, _Client(schemas))
    with pytest.raises(TimeoutError, match="FlowSchema podplane-bench-exempt: not taken in"):
        asyncio.run(flow_schemas.exempt_anonymous_callers(client, timeout=0.3))
