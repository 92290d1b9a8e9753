"""FlowSchema and PriorityLevelConfiguration as Kubernetes 1.31 has them: v1 defaults, validation
(texts and paths), the tables kubectl prints, the bootstrap objects the ensurer keeps (mandatory
ones restored, suggested ones left alone once an operator says autoupdate-spec "false"), and API
Priority and Fairness following the objects: a new schema routes its user to its level from the
next request, and a schema whose level is missing is marked Dangling."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Generic, TypeVar

import grpc
import pytest

from apiserver import errors
from apiserver.auth.user import AUTHENTICATED_GROUP, UserInfo
from apiserver.defaulting import flowcontrol as defaulting
from apiserver.flowcontrol.digest import digest
from apiserver.flowcontrol.priority_and_fairness import PriorityAndFairness, Rejection, Seat
from apiserver.flowcontrol.request import RequestDigest
from apiserver.registry.flowcontrol.ensurer import ConfigProducer, updated
from apiserver.registry.generic.managed_fields import SERVER, Manager
from apiserver.validation import flowcontrol as validation
from apiserver.validation.fields import FieldError
from podplane.api.flowcontrol.v1 import flowcontrol_pb2 as fc
from podplane.apimachinery import codec, flowcontrol
from podplane.apimachinery import flowcontrol_bootstrap as bootstrap
from podplane.printers.flowcontrol import flow_schema_row, priority_level_row

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def schema(name: str = "mine", spec: dict[str, object] | None = None) -> fc.FlowSchema:
    body = {
        "metadata": {"name": name},
        "spec": spec
        or {
            "priorityLevelConfiguration": {"name": "global-default"},
            "rules": [
                {
                    "subjects": [{"kind": "User", "user": {"name": "jane"}}],
                    "resourceRules": [
                        {
                            "verbs": ["*"],
                            "apiGroups": ["*"],
                            "resources": ["*"],
                            "namespaces": ["*"],
                        }
                    ],
                }
            ],
        },
    }
    obj, _ = codec.decode(fc.FlowSchema, body)
    defaulting.flow_schema(obj)
    return obj


def level(
    name: str = "mine", spec: dict[str, object] | None = None
) -> fc.PriorityLevelConfiguration:
    body = {
        "metadata": {"name": name},
        "spec": spec
        or {"type": "Limited", "limited": {"limitResponse": {"type": "Queue", "queuing": {}}}},
    }
    obj, _ = codec.decode(fc.PriorityLevelConfiguration, body)
    defaulting.priority_level(obj)
    return obj


def errs(found: list[FieldError]) -> list[str]:
    return [str(e) for e in found]


# ---------------------------------------------------------------- defaults
def test_defaults_are_kubernetes_v1_ones() -> None:
    assert schema().spec.matching_precedence == 1000
    limited = level().spec.limited
    assert limited.nominal_concurrency_shares == 30
    assert limited.lendable_percent == 0
    q = limited.limit_response.queuing
    assert (q.queues, q.hand_size, q.queue_length_limit) == (64, 8, 50)
    jail = level(
        spec={
            "type": "Limited",
            "limited": {"nominalConcurrencyShares": 0, "limitResponse": {"type": "Reject"}},
        }
    )
    assert jail.spec.limited.HasField("nominal_concurrency_shares")
    assert jail.spec.limited.nominal_concurrency_shares == 0  # an explicit 0 stays: a jail
    exempt = level("exempt", {"type": "Exempt", "exempt": {}})
    assert (exempt.spec.exempt.nominal_concurrency_shares, exempt.spec.exempt.lendable_percent) == (
        0,
        0,
    )


# ---------------------------------------------------------------- validation
def test_bootstrap_objects_are_valid() -> None:
    for fs in bootstrap.mandatory_flow_schemas() + bootstrap.suggested_flow_schemas():
        assert validation.flow_schema(fs) == [], fs.metadata.name
    for pl in bootstrap.mandatory_priority_levels() + bootstrap.suggested_priority_levels():
        assert validation.priority_level(pl) == [], pl.metadata.name


def _rule(**fields: object) -> dict[str, object]:
    return {
        "priorityLevelConfiguration": {"name": "global-default"},
        "matchingPrecedence": 500,
        "rules": [{"subjects": [{"kind": "Group", "group": {"name": "devs"}}], **fields}],
    }


@pytest.mark.parametrize(
    "spec, expected",
    [
        (
            {
                **_rule(nonResourceRules=[{"verbs": ["get"], "nonResourceURLs": ["/x"]}]),
                "matchingPrecedence": 1,
            },
            [
                "spec.matchingPrecedence: Invalid value: 1: only the schema named 'exempt' may "
                "have matchingPrecedence 1"
            ],
        ),
        (
            {
                **_rule(nonResourceRules=[{"verbs": ["get"], "nonResourceURLs": ["/x"]}]),
                "matchingPrecedence": 10001,
            },
            ["spec.matchingPrecedence: Invalid value: 10001: must not be greater than 10000"],
        ),
        (
            {
                **_rule(nonResourceRules=[{"verbs": ["get"], "nonResourceURLs": ["/x"]}]),
                "priorityLevelConfiguration": {"name": ""},
            },
            [
                "spec.priorityLevelConfiguration.name: Required value: must reference a priority "
                "level"
            ],
        ),
        (
            _rule(),
            [
                "spec.rules[0]: Required value: at least one of resourceRules and "
                "nonResourceRules has to be non-empty"
            ],
        ),
        (
            _rule(
                resourceRules=[{"verbs": ["get", "*"], "apiGroups": [""], "resources": ["pods"]}]
            ),
            [
                'spec.rules[0].resourceRules[0].verbs: Invalid value: []string{"get", "*"}: '
                "if '*' is present, must not specify other verbs",
                "spec.rules[0].resourceRules[0].namespaces: Required value: resource rules that "
                "are not cluster scoped must supply at least one namespace",
            ],
        ),
        (
            _rule(
                resourceRules=[
                    {
                        "verbs": ["fly"],
                        "apiGroups": [],
                        "resources": ["pods"],
                        "namespaces": ["Bad_NS"],
                    }
                ]
            ),
            [
                'spec.rules[0].resourceRules[0].verbs: Unsupported value: []string{"fly"}: '
                "supported values: "
                '"create", "delete", "deletecollection", "get", "list", "patch", "proxy", '
                '"update", "watch"',
                "spec.rules[0].resourceRules[0].apiGroups: Required value: resource rules must "
                "supply at least one api group",
                'spec.rules[0].resourceRules[0].namespaces[0]: Invalid value: "Bad_NS": each '
                "member of this list "
                "must be '*' or a DNS-1123 label; a lowercase RFC 1123 label must consist of "
                "lower case "
                "alphanumeric characters or '-', and must start and end with an alphanumeric "
                "character "
                "(e.g. 'my-name',  or '123-abc', regex used for validation is "
                "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
            ],
        ),
        (
            _rule(
                nonResourceRules=[
                    {"verbs": ["get"], "nonResourceURLs": ["/hea*", "healthz", "/a//b"]}
                ]
            ),
            [
                'spec.rules[0].nonResourceRules[0].nonResourceURLs[0]: Invalid value: "/hea*": '
                "wildcard can only do suffix matching",
                'spec.rules[0].nonResourceRules[0].nonResourceURLs[1]: Invalid value: "healthz": '
                "must start with slash",
                'spec.rules[0].nonResourceRules[0].nonResourceURLs[2]: Invalid value: "/a//b": '
                "must not contain double slash",
            ],
        ),
    ],
)
def test_flow_schema_validation(spec: dict[str, object], expected: list[str]) -> None:
    assert errs(validation.flow_schema(schema("mine", spec))) == expected


def test_subject_rules() -> None:
    spec = _rule(nonResourceRules=[{"verbs": ["*"], "nonResourceURLs": ["*"]}])
    spec["rules"][0]["subjects"] = [  # type: ignore[index]
        {"kind": "User"},
        {"kind": "ServiceAccount", "serviceAccount": {"name": "x"}, "group": {"name": "g"}},
        {"kind": "Robot"},
    ]
    assert errs(validation.flow_schema(schema("mine", spec))) == [
        "spec.rules[0].subjects[0].user: Required value: user is required when subject kind is "
        "'User'",
        "spec.rules[0].subjects[1].serviceAccount.namespace: Required value: must specify "
        "namespace for service account",
        "spec.rules[0].subjects[1].group: Forbidden: group is forbidden when subject kind is not "
        "'Group'",
        'spec.rules[0].subjects[2].kind: Unsupported value: "Robot": supported values: "Group", '
        '"ServiceAccount", "User"',
    ]


@pytest.mark.parametrize(
    "name, spec, expected",
    [
        (
            "mine",
            {
                "type": "Limited",
                "limited": {
                    "nominalConcurrencyShares": -1,
                    "lendablePercent": 101,
                    "borrowingLimitPercent": -1,
                    "limitResponse": {"type": "Reject", "queuing": {}},
                },
            },
            [
                "spec.limited.nominalConcurrencyShares: Invalid value: -1: must be a non-negative "
                "integer",
                "spec.limited.limitResponse.queuing: Forbidden: must be nil if "
                "limited.limitResponse.type is not Limited",
                "spec.limited.lendablePercent: Invalid value: 101: must be between 0 and 100, "
                "inclusive",
                "spec.limited.borrowingLimitPercent: Invalid value: -1: if specified, must be a "
                "non-negative integer",
            ],
        ),
        (
            "mine",
            {
                "type": "Limited",
                "limited": {
                    "limitResponse": {"type": "Queue", "queuing": {"queues": 4, "handSize": 5}}
                },
            },
            [
                "spec.limited.limitResponse.queuing.handSize: Invalid value: 5: should not be "
                "greater than queues (4)"
            ],
        ),
        (
            "mine",
            {
                "type": "Limited",
                "limited": {
                    "limitResponse": {"type": "Queue", "queuing": {"queues": 128, "handSize": 9}}
                },
            },
            [
                "spec.limited.limitResponse.queuing.handSize: Invalid value: 9: required entropy "
                "bits of "
                "deckSize 128 and handSize 9 should not be greater than 60"
            ],
        ),
        (
            "mine",
            {"type": "Limited"},
            ["spec.limited: Required value: must not be empty when type is Limited"],
        ),
        (
            "mine",
            {"type": "Exempt"},
            [
                "spec.type: Invalid value: \"Exempt\": type must be 'Exempt' if and only if name "
                "is 'exempt'"
            ],
        ),
        (
            "mine",
            {"type": "Fast"},
            ['spec.type: Unsupported value: "Fast": supported values: "Exempt", "Limited"'],
        ),
    ],
)
def test_priority_level_validation(name: str, spec: dict[str, object], expected: list[str]) -> None:
    assert errs(validation.priority_level(level(name, spec))) == expected


def test_mandatory_specs_are_fixed_but_the_exempt_levels_exempt_field() -> None:
    catch_all = bootstrap.mandatory_priority_level("catch-all")
    assert catch_all is not None
    catch_all.spec.limited.nominal_concurrency_shares = 6
    [err] = validation.priority_level(catch_all)
    assert (err.path, err.detail) == ("spec", "spec of 'catch-all' must equal the fixed value")
    exempt = bootstrap.mandatory_priority_level("exempt")
    assert exempt is not None
    exempt.spec.exempt.nominal_concurrency_shares = 7
    exempt.spec.exempt.lendable_percent = 10
    assert validation.priority_level(exempt) == []
    exempt.spec.limited.limit_response.type = "Reject"
    assert [e.detail for e in validation.priority_level(exempt)] == [
        "must be nil if the type is not Limited",
        "spec of 'exempt' except the 'spec.exempt' field must equal the fixed value",
    ]
    fs = bootstrap.mandatory_flow_schema("catch-all")
    assert fs is not None
    fs.spec.matching_precedence = 9999
    [err] = validation.flow_schema(fs)
    assert (err.path, err.detail) == ("spec", "spec of 'catch-all' must equal the fixed value")


def test_conditions_need_distinct_types() -> None:
    fs = schema()
    fs.status.conditions.add(type="Dangling")
    fs.status.conditions.add(type="Dangling")
    fs.status.conditions.add(type="")
    assert errs(validation.flow_schema_status_update(fs, fs)) == [
        'status.conditions[1].type: Duplicate value: "Dangling"',
        "status.conditions[2].type: Required value: must not be empty",
    ]


# ---------------------------------------------------------------- tables
def test_tables_are_kubernetes_ones() -> None:
    fs = bootstrap.mandatory_flow_schema("catch-all")
    assert fs is not None
    fs.metadata.creation_timestamp = "2025-12-31T23:00:00Z"
    assert flow_schema_row(fs, NOW) == ["catch-all", "catch-all", 10000, "ByUser", "60m", "?"]
    fs.status.conditions.add(type="Dangling", status="False")
    assert flow_schema_row(fs, NOW)[-1] == "False"
    probes = next(f for f in bootstrap.suggested_flow_schemas() if f.metadata.name == "probes")
    assert flow_schema_row(probes, NOW)[3] == "<none>"
    levels = {
        p.metadata.name: p
        for p in bootstrap.mandatory_priority_levels() + bootstrap.suggested_priority_levels()
    }
    assert priority_level_row(levels["exempt"], NOW)[:6] == [
        "exempt",
        "Exempt",
        "<none>",
        "<none>",
        "<none>",
        "<none>",
    ]
    assert priority_level_row(levels["catch-all"], NOW)[:6] == [
        "catch-all",
        "Limited",
        5,
        "<none>",
        "<none>",
        "<none>",
    ]
    assert priority_level_row(levels["workload-low"], NOW)[:6] == [
        "workload-low",
        "Limited",
        100,
        128,
        6,
        50,
    ]


# ---------------------------------------------------------------- the ensurer
Obj = TypeVar("Obj", fc.FlowSchema, fc.PriorityLevelConfiguration)


class FakeKind(Generic[Obj]):
    """A kind's cache and store at once, as the ensurer sees them."""

    def __init__(self) -> None:
        self.items: dict[str, Obj] = {}
        self.writes: list[tuple[str, str]] = []

    @property
    def objects(self) -> dict[bytes, Obj]:
        return {name.encode(): obj for name, obj in self.items.items()}

    def peek(self, namespace: str, name: str) -> Obj | None:
        return self.items.get(name)

    async def create(self, obj: Obj, *, manager: Manager | None = None) -> Obj:
        if obj.metadata.name in self.items:
            raise errors.APIError(grpc.StatusCode.ALREADY_EXISTS, "AlreadyExists", "exists")
        stored = type(obj)()
        stored.CopyFrom(obj)
        stored.metadata.generation = 1
        self.items[obj.metadata.name] = stored
        self.writes.append(("create", obj.metadata.name))
        return stored

    async def update(
        self, obj: Obj, cached: Obj | None = None, *, manager: Manager = SERVER
    ) -> Obj:
        if obj.spec != self.items[obj.metadata.name].spec:
            obj.metadata.generation += 1
        self.items[obj.metadata.name] = obj
        self.writes.append(("update", obj.metadata.name))
        return obj

    async def delete(self, namespace: str, name: str) -> Obj:
        self.writes.append(("delete", name))
        return self.items.pop(name)


def test_ensurer_creates_restores_keeps_and_removes() -> None:
    schemas: FakeKind[fc.FlowSchema] = FakeKind()
    levels: FakeKind[fc.PriorityLevelConfiguration] = FakeKind()
    producer = ConfigProducer(schemas, schemas, levels, levels)
    asyncio.run(producer.ensure())
    assert sorted(schemas.items) == sorted(
        f.metadata.name
        for f in bootstrap.mandatory_flow_schemas() + bootstrap.suggested_flow_schemas()
    )
    assert len(levels.items) == 8
    # An operator edits a suggested schema and says so; breaks the mandatory catch-all (as an
    # older server might have stored it) and turns its auto-update off; leaves an old object.
    system_nodes = schemas.items["system-nodes"]
    system_nodes.metadata.annotations[flowcontrol.AUTO_UPDATE_ANNOTATION] = "false"
    system_nodes.spec.matching_precedence = 450
    catch_all = schemas.items["catch-all"]
    catch_all.metadata.annotations[flowcontrol.AUTO_UPDATE_ANNOTATION] = "false"
    catch_all.spec.matching_precedence = 9000
    leftover = schema("old-bootstrap")
    leftover.metadata.annotations[flowcontrol.AUTO_UPDATE_ANNOTATION] = "true"
    schemas.items["old-bootstrap"] = leftover
    mine = schema("mine")
    schemas.items["mine"] = mine
    del schemas.items["global-default"]
    schemas.writes.clear()
    asyncio.run(producer.ensure())
    assert schemas.items["system-nodes"].spec.matching_precedence == 450  # kept
    assert schemas.items["catch-all"].spec.matching_precedence == 10000  # restored
    assert (
        schemas.items["catch-all"].metadata.annotations[flowcontrol.AUTO_UPDATE_ANNOTATION]
        == "true"
    )
    assert "old-bootstrap" not in schemas.items and "mine" in schemas.items
    assert sorted(schemas.writes) == [
        ("create", "global-default"),
        ("delete", "old-bootstrap"),
        ("update", "catch-all"),
    ]


def test_a_suggested_object_edited_without_the_annotation_is_kept_and_marked() -> None:
    boot = next(
        p for p in bootstrap.suggested_priority_levels() if p.metadata.name == "workload-low"
    )
    current = fc.PriorityLevelConfiguration()
    current.CopyFrom(boot)
    del current.metadata.annotations[flowcontrol.AUTO_UPDATE_ANNOTATION]
    current.metadata.generation = 2
    current.spec.limited.nominal_concurrency_shares = 7
    new = updated(current, boot, mandatory=False)
    assert new is not None
    assert new.metadata.annotations[flowcontrol.AUTO_UPDATE_ANNOTATION] == "false"
    assert new.spec.limited.nominal_concurrency_shares == 7
    # The exempt level's `spec.exempt` is the operator's, even though the object is mandatory.
    exempt = bootstrap.mandatory_priority_level("exempt")
    assert exempt is not None
    tuned = fc.PriorityLevelConfiguration()
    tuned.CopyFrom(exempt)
    tuned.spec.exempt.nominal_concurrency_shares = 10
    assert updated(tuned, exempt, mandatory=True) is None


# ---------------------------------------------------------------- the filter follows the objects
JANE = UserInfo("jane", frozenset({AUTHENTICATED_GROUP}))


def _objects() -> tuple[list[fc.PriorityLevelConfiguration], list[fc.FlowSchema]]:
    pls = bootstrap.mandatory_priority_levels() + bootstrap.suggested_priority_levels()
    fss = bootstrap.mandatory_flow_schemas() + bootstrap.suggested_flow_schemas()
    for i, pl in enumerate(pls):
        pl.metadata.uid = f"uid-pl-{pl.metadata.name}-{i}"
    for i, fs in enumerate(fss):
        fs.metadata.uid = f"uid-fs-{fs.metadata.name}-{i}"
    return pls, fss


def test_a_new_schema_routes_its_user_from_the_next_request() -> None:
    async def run() -> None:
        pls, fss = _objects()
        apf = PriorityAndFairness(10, 0.05)
        meal = digest(pls, fss, "now")
        apf.reconfigure(meal.levels, meal.schemas)
        request = RequestDigest(JANE, "list", "pods", "", namespace="default")
        seat = await apf.admit(request)
        assert isinstance(seat, Seat) and seat.priority_level == "global-default"
        assert seat.flow_schema_uid == next(
            f.metadata.uid for f in fss if f.metadata.name == "global-default"
        )
        seat.release()
        jail = level(
            "jail",
            {
                "type": "Limited",
                "limited": {"nominalConcurrencyShares": 0, "limitResponse": {"type": "Reject"}},
            },
        )
        jail.metadata.uid = "uid-jail"
        mine = schema("jane-to-jail")
        mine.spec.priority_level_configuration.name = "jail"
        mine.metadata.uid = "uid-jane"
        meal = digest([*pls, jail], [*fss, mine], "now")
        apf.reconfigure(meal.levels, meal.schemas)
        first = await apf.admit(request)  # a level with no seats still runs one at a time
        assert isinstance(first, Seat) and first.priority_level == "jail"
        assert (first.flow_schema_uid, first.priority_level_uid) == ("uid-jane", "uid-jail")
        second = await apf.admit(request)
        assert isinstance(second, Rejection) and second.reason == "concurrency-limit"
        assert (second.flow_schema, second.priority_level_uid) == ("jane-to-jail", "uid-jail")
        first.release()

    asyncio.run(run())


def test_a_schema_without_its_level_is_dangling_and_mandatory_ones_are_imagined() -> None:
    pls, fss = _objects()
    orphan = schema("orphan")
    orphan.spec.priority_level_configuration.name = "nowhere"
    pls = [p for p in pls if p.metadata.name != "catch-all"]
    fss = [f for f in fss if f.metadata.name != "exempt"]
    meal = digest(pls, [*fss, orphan], "2026-01-01T00:00:00Z")
    conditions = {fs.metadata.name: c for fs, c in meal.conditions}
    assert (conditions["orphan"].status, conditions["orphan"].reason) == ("True", "NotFound")
    assert conditions["orphan"].message == (
        'This FlowSchema references the PriorityLevelConfiguration object named "nowhere" but '
        "there is no such object"
    )
    assert conditions["global-default"].reason == "Found"
    # catch-all's level is missing: the schema dangles, and both are imagined (no UID).
    assert conditions["catch-all"].status == "True"
    assert "orphan" not in {s.name for s in meal.schemas}
    imagined = {s.name: s.uid for s in meal.schemas if s.name in ("exempt", "catch-all")}
    assert imagined == {"exempt": "", "catch-all": ""}
    assert next(lv for lv in meal.levels if lv.name == "catch-all").uid == ""
    # A condition already right is not written again.
    for fs, c in meal.conditions:
        fs.status.conditions.append(c)
    assert digest(pls, [*fss, orphan], "later").conditions == []
