"""StatefulSet validation and defaulting, table-driven: each bad field gets Kubernetes 1.31's
error at its path; the defaults a user sees in `kubectl get sts -o yaml`; the fields an update may
change; maxUnavailable dropped as an alpha field is; the status rules."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from apiserver.defaulting import statefulset as defaulting
from apiserver.validation import statefulset as validation
from apiserver.validation.fields import FieldError
from podplane.api.apps.v1 import apps_pb2
from podplane.apimachinery import codec, manifest


def web_doc() -> dict[str, Any]:
    """Kubernetes' tutorial StatefulSet (web, behind the nginx Service), with a claim template."""
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {
            "serviceName": "nginx",
            "replicas": 3,
            "selector": {"matchLabels": {"app": "nginx"}},
            "template": {
                "metadata": {"labels": {"app": "nginx"}},
                "spec": {
                    "containers": [
                        {
                            "name": "nginx",
                            "image": "registry.k8s.io/nginx-slim:0.24",
                            "volumeMounts": [{"name": "www", "mountPath": "/usr/share/nginx"}],
                        }
                    ]
                },
            },
            "volumeClaimTemplates": [
                {
                    "metadata": {"name": "www"},
                    "spec": {
                        "accessModes": ["ReadWriteOnce"],
                        "resources": {"requests": {"storage": "1Gi"}},
                    },
                }
            ],
        },
    }


def decoded(doc: dict[str, Any]) -> apps_pb2.StatefulSet:
    sts = manifest.from_dict(doc, apps_pb2.StatefulSet)
    defaulting.statefulset(sts)
    return sts


def created(doc: dict[str, Any]) -> apps_pb2.StatefulSet:
    """As the store validates a create: defaulted, then prepared."""
    sts = decoded(doc)
    defaulting.prepare_for_create(sts)
    return sts


def strings(errs: list[FieldError]) -> list[str]:
    return [str(e) for e in errs]


Edit = Callable[[dict[str, Any]], None]


def edit(path: str, value: Any) -> Edit:
    """Sets a dotted path of the manifest (None deletes it)."""

    def apply(doc: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node = doc
        for key in parents:
            node = node.setdefault(key, {})
        if value is None:
            node.pop(last, None)
        else:
            node[last] = value

    return apply


def test_the_tutorial_statefulset_is_valid() -> None:
    assert strings(validation.statefulset(created(web_doc()))) == []


# ---------------------------------------------------------------- create


CREATE_ERRORS: list[tuple[str, list[Edit], list[str]]] = [
    (
        "a name that is not a DNS label",
        [edit("metadata.name", "web.v1")],
        [
            'metadata.name: Invalid value: "web.v1": a lowercase RFC 1123 label must consist of '
            "lower case alphanumeric characters or '-', and must start and end with an "
            "alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
            "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
        ],
    ),
    (
        "no selector",
        [edit("spec.selector", None)],
        [
            "spec.selector: Required value",
            'spec.template.metadata.labels: Invalid value: {"app":"nginx"}: '
            "`selector` does not match template `labels`",
        ],
    ),
    (
        "an empty selector",
        [edit("spec.selector", {})],
        ["spec.selector: Invalid value: {}: empty selector is invalid for statefulset"],
    ),
    (
        "a selector that does not select the template",
        [edit("spec.selector", {"matchLabels": {"app": "web"}})],
        [
            'spec.template.metadata.labels: Invalid value: {"app":"nginx"}: '
            "`selector` does not match template `labels`"
        ],
    ),
    (
        "an unknown podManagementPolicy",
        [edit("spec.podManagementPolicy", "Burst")],
        [
            'spec.podManagementPolicy: Invalid value: "Burst": '
            "must be 'OrderedReady' or 'Parallel'"
        ],
    ),
    (
        "an unknown updateStrategy",
        [edit("spec.updateStrategy", {"type": "Recreate"})],
        [
            'spec.updateStrategy: Invalid value: {"type":"Recreate"}: '
            "must be 'RollingUpdate' or 'OnDelete'"
        ],
    ),
    (
        "OnDelete with rollingUpdate",
        [edit("spec.updateStrategy", {"type": "OnDelete", "rollingUpdate": {"partition": 1}})],
        [
            'spec.updateStrategy.rollingUpdate: Invalid value: {"partition":1}: '
            "only allowed for updateStrategy 'RollingUpdate'"
        ],
    ),
    (
        "a negative partition",
        [
            edit(
                "spec.updateStrategy", {"type": "RollingUpdate", "rollingUpdate": {"partition": -1}}
            )
        ],
        [
            "spec.updateStrategy.rollingUpdate.partition: Invalid value: -1: "
            "must be greater than or equal to 0"
        ],
    ),
    (
        "negative replicas",
        [edit("spec.replicas", -1)],
        ["spec.replicas: Invalid value: -1: must be greater than or equal to 0"],
    ),
    (
        "negative minReadySeconds",
        [edit("spec.minReadySeconds", -5)],
        ["spec.minReadySeconds: Invalid value: -5: must be greater than or equal to 0"],
    ),
    (
        "a negative ordinals.start",
        [edit("spec.ordinals", {"start": -1})],
        ["spec.ordinals.start: Invalid value: -1: must be greater than or equal to 0"],
    ),
    (
        "an unknown retention policy",
        [edit("spec.persistentVolumeClaimRetentionPolicy", {"whenDeleted": "Keep"})],
        [
            "spec.persistentVolumeClaimRetentionPolicy.whenDeleted: Unsupported value: "
            '"Keep": supported values: "Retain", "Delete"'
        ],
    ),
    (
        "restartPolicy other than Always",
        [edit("spec.template.spec.restartPolicy", "OnFailure")],
        [
            'spec.template.spec.restartPolicy: Unsupported value: "OnFailure": '
            'supported values: "Always"'
        ],
    ),
    (
        "activeDeadlineSeconds",
        [edit("spec.template.spec.activeDeadlineSeconds", 30)],
        [
            "spec.template.spec.activeDeadlineSeconds: Forbidden: "
            "activeDeadlineSeconds in StatefulSet is not Supported"
        ],
    ),
    (
        "a bad template label",
        [
            edit("spec.template.metadata.labels", {"app": "nginx", "tier": "a b"}),
        ],
        ['spec.template.labels: Invalid value: "a b": a valid label must be'],
    ),
]


@pytest.mark.parametrize(
    ("edits", "expected"), [c[1:] for c in CREATE_ERRORS], ids=[c[0] for c in CREATE_ERRORS]
)
def test_a_bad_field_gets_kubernetes_error(edits: list[Edit], expected: list[str]) -> None:
    doc = web_doc()
    for e in edits:
        e(doc)
    errs = strings(validation.statefulset(created(doc)))
    assert len(errs) == len(expected), errs
    for want, got in zip(expected, errs, strict=True):
        assert got.startswith(want), (got, want)


def test_template_pod_spec_and_claims_are_left_to_their_own_validation() -> None:
    """As in Kubernetes 1.31, a container without image or a claim without storage is the pod's
    and the claim's problem, met when the controller creates them."""
    doc = web_doc()
    doc["spec"]["template"]["spec"]["containers"][0].pop("image")
    doc["spec"]["volumeClaimTemplates"][0]["spec"].pop("resources")
    assert strings(validation.statefulset(created(doc))) == []


# ---------------------------------------------------------------- defaults


def test_defaults_are_kubernetes() -> None:
    doc = web_doc()
    del doc["spec"]["replicas"]
    out = codec.encode(created(doc))
    spec: Any = out["spec"]
    assert spec["replicas"] == 1
    assert spec["podManagementPolicy"] == "OrderedReady"
    assert spec["updateStrategy"] == {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}
    assert spec["revisionHistoryLimit"] == 10
    assert spec["persistentVolumeClaimRetentionPolicy"] == {
        "whenDeleted": "Retain",
        "whenScaled": "Retain",
    }
    claim = spec["volumeClaimTemplates"][0]
    assert claim["spec"]["volumeMode"] == "Filesystem"
    assert claim["status"] == {"phase": "Pending"}
    pod = spec["template"]["spec"]
    assert pod["restartPolicy"] == "Always"
    assert pod["dnsPolicy"] == "ClusterFirst"
    assert pod["containers"][0]["imagePullPolicy"] == "IfNotPresent"
    assert out["status"] == {"replicas": 0, "availableReplicas": 0}


@pytest.mark.parametrize(
    ("strategy", "expected"),
    [
        ({"type": "RollingUpdate"}, {"type": "RollingUpdate"}),
        (
            {"type": "RollingUpdate", "rollingUpdate": {}},
            {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
        ),
        (
            {"rollingUpdate": {"partition": 2}},
            {"type": "RollingUpdate", "rollingUpdate": {"partition": 2}},
        ),
        ({"type": "OnDelete"}, {"type": "OnDelete"}),
    ],
    ids=["explicit-type-keeps-no-parameters", "empty-parameters", "partition-kept", "ondelete"],
)
def test_update_strategy_defaults(strategy: dict[str, Any], expected: dict[str, Any]) -> None:
    doc = web_doc()
    doc["spec"]["updateStrategy"] = strategy
    assert codec.encode(created(doc))["spec"]["updateStrategy"] == expected


def test_max_unavailable_is_dropped_unless_already_stored() -> None:
    """MaxUnavailableStatefulSet is alpha (off) in 1.31: a new set loses the field; a stored one
    that has it keeps it, and it is then validated."""
    doc = web_doc()
    doc["spec"]["updateStrategy"] = {"rollingUpdate": {"maxUnavailable": 2}}
    sts = created(doc)
    assert not sts.spec.update_strategy.rolling_update.HasField("max_unavailable")

    old = created(web_doc())
    old.spec.update_strategy.rolling_update.max_unavailable = "2"
    new = apps_pb2.StatefulSet()
    new.CopyFrom(old)
    new.spec.update_strategy.rolling_update.max_unavailable = "0"
    defaulting.prepare_for_update(new, old)
    assert new.spec.update_strategy.rolling_update.max_unavailable == "0"
    assert strings(validation.statefulset_update(new, old)) == [
        'spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: "0": cannot be 0'
    ]


# ---------------------------------------------------------------- update


MUTABLE: list[tuple[str, Edit]] = [
    ("replicas", edit("spec.replicas", 5)),
    ("template", edit("spec.template.spec.containers", [{"name": "nginx", "image": "nginx:2"}])),
    ("updateStrategy", edit("spec.updateStrategy", {"type": "OnDelete"})),
    ("minReadySeconds", edit("spec.minReadySeconds", 10)),
    ("ordinals", edit("spec.ordinals", {"start": 3})),
    (
        "persistentVolumeClaimRetentionPolicy",
        edit("spec.persistentVolumeClaimRetentionPolicy", {"whenScaled": "Delete"}),
    ),
]
IMMUTABLE: list[tuple[str, Edit]] = [
    ("serviceName", edit("spec.serviceName", "other")),
    ("podManagementPolicy", edit("spec.podManagementPolicy", "Parallel")),
    ("selector", edit("spec.selector", {"matchLabels": {"app": "nginx", "x": "y"}})),
    ("revisionHistoryLimit", edit("spec.revisionHistoryLimit", 3)),
    (
        "volumeClaimTemplates",
        edit(
            "spec.volumeClaimTemplates",
            [{"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"]}}],
        ),
    ),
]


def updated(change: Edit) -> tuple[apps_pb2.StatefulSet, apps_pb2.StatefulSet]:
    old = created(web_doc())
    doc = web_doc()
    change(doc)
    new = decoded(doc)
    defaulting.prepare_for_update(new, old)
    return new, old


@pytest.mark.parametrize("change", [m[1] for m in MUTABLE], ids=[m[0] for m in MUTABLE])
def test_an_update_may_change(change: Edit) -> None:
    new, old = updated(change)
    assert strings(validation.statefulset_update(new, old)) == []


@pytest.mark.parametrize("change", [m[1] for m in IMMUTABLE], ids=[m[0] for m in IMMUTABLE])
def test_an_update_may_not_change(change: Edit) -> None:
    new, old = updated(change)
    errs = strings(validation.statefulset_update(new, old))
    assert errs[-1] == (
        "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', "
        "'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and "
        "'minReadySeconds' are forbidden"
    )


def test_update_does_not_check_the_name_again() -> None:
    """A set named before names had to be DNS labels can still be updated (and deleted)."""
    old = created(web_doc())
    old.metadata.name = "web.v1"
    new = copy.deepcopy(old)
    new.spec.replicas = 0
    assert strings(validation.statefulset_update(new, old)) == []


# ---------------------------------------------------------------- status


STATUS_ERRORS: list[tuple[str, dict[str, int], list[str]]] = [
    (
        "a negative count",
        {"observedGeneration": -1},
        ["status.observedGeneration: Invalid value: -1: must be greater than or equal to 0"],
    ),
    (
        "more ready than replicas",
        {"replicas": 1, "readyReplicas": 2, "availableReplicas": 0},
        ["status.readyReplicas: Invalid value: 2: cannot be greater than status.replicas"],
    ),
    (
        "more available than ready",
        {"replicas": 3, "readyReplicas": 1, "availableReplicas": 2},
        ["status.availableReplicas: Invalid value: 2: cannot be greater than status.readyReplicas"],
    ),
    (
        "a lower collision count",
        {"collisionCount": 1},
        ["status.collisionCount: Invalid value: 1: cannot be decremented"],
    ),
]


@pytest.mark.parametrize(
    ("status", "expected"), [c[1:] for c in STATUS_ERRORS], ids=[c[0] for c in STATUS_ERRORS]
)
def test_status_rules(status: dict[str, int], expected: list[str]) -> None:
    old = created(web_doc())
    old.status.collision_count = 2
    new = apps_pb2.StatefulSet()
    new.CopyFrom(old)
    new.status.CopyFrom(manifest.from_dict(status, apps_pb2.StatefulSetStatus))
    if "collisionCount" not in status:
        new.status.collision_count = 2
    assert strings(validation.statefulset_update(new, old)) == expected


def test_the_example_manifest_is_valid() -> None:
    """examples/web-statefulset.yaml, which docs/controllers.md applies."""
    path = Path(__file__).resolve().parents[3] / "examples" / "web-statefulset.yaml"
    objects = manifest.load_objects(path.read_text())
    [sts] = [o for o in objects if isinstance(o, apps_pb2.StatefulSet)]
    defaulting.statefulset(sts)
    defaulting.prepare_for_create(sts)
    assert strings(validation.statefulset(sts)) == []
    assert sts.spec.service_name == "nginx"


def test_the_templates_disabled_fields_are_dropped_unless_stored() -> None:
    """DropDisabledTemplateFields: hostUsers (UserNamespacesSupport, off in 1.31) is dropped from
    a new set's template, and kept on update where the stored set already has it."""
    doc = web_doc()
    doc["spec"]["template"]["spec"]["hostUsers"] = False
    assert not created(doc).spec.template.spec.HasField("host_users")

    old = created(web_doc())
    old.spec.template.spec.host_users = False
    new = decoded(doc)
    defaulting.prepare_for_update(new, old)
    assert new.spec.template.spec.HasField("host_users")
