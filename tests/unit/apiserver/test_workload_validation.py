"""Workload validation tables: each bad field of a ReplicationController, ReplicaSet, Deployment or
Job yields an error naming its path, with Kubernetes' wording; the objects as users write them
pass."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from apiserver.defaulting import jobs as job_defaulting
from apiserver.defaulting import workloads as workload_defaulting
from apiserver.validation import jobs, workloads
from apiserver.validation.fields import FieldError
from podplane.apimachinery import manifest

UID = "0b5b8a1f-7c1e-4cde-9e3c-6ad1b0c1f2aa"
TEMPLATE: dict[str, Any] = {
    "metadata": {"labels": {"app": "web"}},
    "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
}


def replica_set_doc(kind: str = "ReplicaSet") -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": kind,
        "metadata": {"name": "web"},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "template": copy.deepcopy(TEMPLATE),
        },
    }


def rc_doc() -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ReplicationController",
        "metadata": {"name": "web"},
        "spec": {"replicas": 2, "selector": {"app": "web"}, "template": copy.deepcopy(TEMPLATE)},
    }


def job_doc() -> dict[str, Any]:
    template = copy.deepcopy(TEMPLATE)
    template["spec"]["restartPolicy"] = "Never"
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "pi"},
        "spec": {"template": template},
    }


def decoded(doc: dict[str, Any], default: Callable[[Any], None]) -> Any:
    obj: Any = manifest.from_dict(doc)
    default(obj)
    return obj


def created_job(doc: dict[str, Any]) -> Any:
    """The job as the store validates it on create: defaulted, uid set, selector generated."""
    job = decoded(doc, job_defaulting.job)
    job.metadata.uid = UID
    job_defaulting.generate_job_selector(job)
    return job


def strings(errs: list[FieldError]) -> list[str]:
    return [str(e) for e in errs]


def assert_error(errs: list[FieldError], expected: str) -> None:
    shown = strings(errs)
    assert any(e.startswith(expected) for e in shown), shown


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


# ---------------------------------------------------------------- valid objects


@pytest.mark.parametrize(
    ("doc", "default", "validate"),
    [
        (rc_doc(), workload_defaulting.replication_controller, workloads.replication_controller),
        (replica_set_doc(), workload_defaulting.replica_set, workloads.replica_set),
        (replica_set_doc("Deployment"), workload_defaulting.deployment, workloads.deployment),
    ],
    ids=["rc", "rs", "deployment"],
)
def test_valid_controllers_have_no_errors(
    doc: dict[str, Any], default: Callable[[Any], None], validate: Callable[[Any], list[FieldError]]
) -> None:
    assert strings(validate(decoded(doc, default))) == []


def test_valid_job_has_no_errors() -> None:
    assert strings(jobs.job(created_job(job_doc()))) == []


# ---------------------------------------------------------------- replica sets and deployments

SHARED_CASES: list[tuple[Edit, str]] = [
    (edit("metadata.name", "Web_1"), 'metadata.name: Invalid value: "Web_1"'),
    (
        edit("spec.replicas", -1),
        "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
    ),
    (
        edit("spec.minReadySeconds", -5),
        "spec.minReadySeconds: Invalid value: -5: must be greater than or equal to 0",
    ),
    (edit("spec.selector", None), "spec.selector: Required value"),
    (
        edit("spec.selector", {}),
        "spec.selector: Invalid value: {}: empty selector is invalid for deployment",
    ),
    (
        edit("spec.selector.matchLabels", {"app": "api"}),
        "spec.template.metadata.labels: Invalid value: "
        '{"app":"web"}: `selector` does not match '
        "template `labels`",
    ),
    (
        edit("spec.selector.matchExpressions", [{"key": "app", "operator": "In"}]),
        "spec.selector.matchExpressions[0].values: Required "
        "value: must be specified when `operator` "
        "is 'In' or 'NotIn'",
    ),
    (
        edit(
            "spec.selector.matchExpressions",
            [{"key": "app", "operator": "Exists", "values": ["web"]}],
        ),
        "spec.selector.matchExpressions[0].values: Forbidden: "
        "may not be specified when `operator` is "
        "'Exists' or 'DoesNotExist'",
    ),
    (
        edit("spec.selector.matchExpressions", [{"key": "app", "operator": "Near"}]),
        'spec.selector.matchExpressions[0].operator: Invalid value: "Near": not a valid selector '
        "operator",
    ),
    (
        edit("spec.selector.matchLabels", {"app": "a b"}),
        'spec.selector.matchLabels: Invalid value: "a b"',
    ),
    (edit("spec.template", None), "spec.template: Required value"),
    (edit("spec.template.spec.containers", []), "spec.template.spec.containers: Required value"),
    (
        edit("spec.template.spec.containers", [{"name": "web"}]),
        "spec.template.spec.containers[0].image: Required value",
    ),
    (
        edit("spec.template.spec.restartPolicy", "OnFailure"),
        'spec.template.spec.restartPolicy: Unsupported value: "OnFailure": supported values: '
        '"Always"',
    ),
    (
        edit("spec.template.spec.activeDeadlineSeconds", 10),
        "spec.template.spec.activeDeadlineSeconds: Forbidden: "
        "activeDeadlineSeconds in ReplicaSet is "
        "not Supported",
    ),
    (
        edit("spec.template.metadata.labels", {"app": "web", "-x": "y"}),
        'spec.template.metadata.labels: Invalid value: "-x"',
    ),
]


@pytest.mark.parametrize(("change", "expected"), SHARED_CASES)
def test_invalid_replica_set_names_the_field(change: Edit, expected: str) -> None:
    doc = replica_set_doc()
    change(doc)
    assert_error(workloads.replica_set(decoded(doc, workload_defaulting.replica_set)), expected)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        *SHARED_CASES,
        (
            edit("spec.strategy", {"type": "BlueGreen"}),
            'spec.strategy.type: Unsupported value: "BlueGreen": supported values: "Recreate", '
            '"RollingUpdate"',
        ),
        (
            edit("spec.strategy", {"type": "Recreate", "rollingUpdate": {"maxSurge": 1}}),
            "spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is "
            "'Recreate'",
        ),
        (
            edit("spec.strategy", {"rollingUpdate": {"maxSurge": 0, "maxUnavailable": 0}}),
            'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "0": may not be 0 when '
            "`maxSurge` is 0",
        ),
        (
            edit("spec.strategy", {"rollingUpdate": {"maxUnavailable": "150%"}}),
            "spec.strategy.rollingUpdate.maxUnavailable: Invalid "
            'value: "150%": must not be greater than '
            "100%",
        ),
        (
            edit("spec.strategy", {"rollingUpdate": {"maxSurge": "lots"}}),
            "spec.strategy.rollingUpdate.maxSurge: Invalid value: "
            '"lots": a valid percent string must be '
            "a numeric string followed by an ending '%'",
        ),
        (
            edit("spec.strategy", {"rollingUpdate": {"maxSurge": -1}}),
            "spec.strategy.rollingUpdate.maxSurge: Invalid value: "
            "-1: must be greater than or equal to 0",
        ),
        (
            edit("spec.revisionHistoryLimit", -1),
            "spec.revisionHistoryLimit: Invalid value: -1: must be greater than or equal to 0",
        ),
        (
            edit("spec.progressDeadlineSeconds", 5),
            "spec.progressDeadlineSeconds: Invalid value: 5: must be greater than minReadySeconds",
        ),
    ],
)
def test_invalid_deployment_names_the_field(change: Edit, expected: str) -> None:
    doc = replica_set_doc("Deployment")
    doc["spec"]["minReadySeconds"] = 10
    change(doc)
    assert_error(workloads.deployment(decoded(doc, workload_defaulting.deployment)), expected)


@pytest.mark.parametrize(
    ("validate_update", "default", "kind"),
    [
        (workloads.replica_set_update, workload_defaulting.replica_set, "ReplicaSet"),
        (workloads.deployment_update, workload_defaulting.deployment, "Deployment"),
    ],
)
def test_apps_selectors_are_immutable(
    validate_update: Callable[[Any, Any], list[FieldError]],
    default: Callable[[Any], None],
    kind: str,
) -> None:
    old = decoded(replica_set_doc(kind), default)
    doc = replica_set_doc(kind)
    doc["spec"]["selector"]["matchLabels"]["tier"] = "front"
    doc["spec"]["template"]["metadata"]["labels"]["tier"] = "front"
    new = decoded(doc, default)
    assert strings(validate_update(new, old)) == [
        'spec.selector: Invalid value: {"matchLabels":{"app":"web","tier":"front"}}: field is '
        "immutable"
    ]
    scaled = decoded(replica_set_doc(kind), default)
    scaled.spec.replicas = 7
    assert strings(validate_update(scaled, old)) == []


# ---------------------------------------------------------------- replication controller


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (edit("spec.replicas", -1), "spec.replicas: Invalid value: -1"),
        (
            edit("spec.selector", {"app": "api"}),
            "spec.template.metadata.labels: Invalid value: "
            '{"app":"web"}: `selector` does not match '
            "template `labels`",
        ),
        (edit("spec.template", None), "spec.template: Required value"),
        (
            edit("spec.template.spec.restartPolicy", "Never"),
            "spec.template.spec.restartPolicy: Unsupported value: "
            '"Never": supported values: "Always"',
        ),
        (
            edit("spec.template.spec.activeDeadlineSeconds", 3),
            "spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in "
            "ReplicationController is not Supported",
        ),
    ],
)
def test_invalid_replication_controller_names_the_field(change: Edit, expected: str) -> None:
    doc = rc_doc()
    change(doc)
    rc = decoded(doc, workload_defaulting.replication_controller)
    assert_error(workloads.replication_controller(rc), expected)


def test_replication_controller_needs_a_selector_or_template_labels() -> None:
    doc = rc_doc()
    del doc["spec"]["selector"]
    del doc["spec"]["template"]["metadata"]
    rc = decoded(doc, workload_defaulting.replication_controller)
    assert_error(workloads.replication_controller(rc), "spec.selector: Required value")


# ---------------------------------------------------------------- status


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (
            {"replicas": -1},
            "status.replicas: Invalid value: -1: must be greater than or equal to 0",
        ),
        (
            {"replicas": 1, "readyReplicas": 2},
            "status.readyReplicas: Invalid value: 2: cannot be greater than status.replicas",
        ),
        (
            {"replicas": 2, "fullyLabeledReplicas": 3},
            "status.fullyLabeledReplicas: Invalid value: 3: cannot be greater than status.replicas",
        ),
        (
            {"replicas": 2, "readyReplicas": 1, "availableReplicas": 2},
            "status.availableReplicas: Invalid value: 2: cannot be greater than readyReplicas",
        ),
        ({"observedGeneration": -1}, "status.observedGeneration: Invalid value: -1"),
    ],
)
def test_replica_set_status_rules(status: dict[str, Any], expected: str) -> None:
    doc = replica_set_doc()
    doc["status"] = status
    assert_error(workloads.replica_set(decoded(doc, workload_defaulting.replica_set)), expected)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (
            {"replicas": 1, "updatedReplicas": 2},
            "status.updatedReplicas: Invalid value: 2: cannot be greater than status.replicas",
        ),
        ({"unavailableReplicas": -1}, "status.unavailableReplicas: Invalid value: -1"),
        ({"collisionCount": -1}, "status.collisionCount: Invalid value: -1"),
    ],
)
def test_deployment_status_rules(status: dict[str, Any], expected: str) -> None:
    doc = replica_set_doc("Deployment")
    doc["status"] = status
    assert_error(workloads.deployment(decoded(doc, workload_defaulting.deployment)), expected)


def test_deployment_collision_count_cannot_go_down() -> None:
    old = decoded(replica_set_doc("Deployment"), workload_defaulting.deployment)
    old.status.collision_count = 2
    new = decoded(replica_set_doc("Deployment"), workload_defaulting.deployment)
    new.status.collision_count = 1
    assert strings(workloads.deployment_update(new, old)) == [
        "status.collisionCount: Invalid value: 1: cannot be decremented"
    ]


# ---------------------------------------------------------------- job


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            edit("spec.template.spec.restartPolicy", "Always"),
            'spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: '
            '"OnFailure", "Never"',
        ),
        (
            edit("spec.template.spec.restartPolicy", None),  # defaulted to Always, as for a pod
            'spec.template.spec.restartPolicy: Unsupported value: "Always"',
        ),
        (edit("spec.parallelism", -1), "spec.parallelism: Invalid value: -1"),
        (edit("spec.completions", -2), "spec.completions: Invalid value: -2"),
        (edit("spec.backoffLimit", -1), "spec.backoffLimit: Invalid value: -1"),
        (edit("spec.activeDeadlineSeconds", -1), "spec.activeDeadlineSeconds: Invalid value: -1"),
        (
            edit("spec.ttlSecondsAfterFinished", -1),
            "spec.ttlSecondsAfterFinished: Invalid value: -1",
        ),
        (
            edit("spec.completionMode", "Sometimes"),
            'spec.completionMode: Unsupported value: "Sometimes": supported values: "NonIndexed", '
            '"Indexed"',
        ),
        (
            lambda d: d["spec"].update(completionMode="Indexed", parallelism=2),
            "spec.completions: Required value: when completion mode is Indexed",
        ),
        (
            edit("spec.selector", {"matchLabels": {"app": "web"}}),
            'spec.selector: Invalid value: {"matchLabels":{"app":"web","batch.kubernetes.io/'
            f'controller-uid":"{UID}"}}}}: `selector` not auto-generated',
        ),
        (
            edit("spec.template.metadata.labels", {"job-name": "other"}),
            "spec.template.metadata.labels[job-name]: Invalid value: \"other\": must be 'pi'",
        ),
        (
            edit("spec.template.spec.containers", []),
            "spec.template.spec.containers: Required value",
        ),
        (
            edit("metadata.name", "x" * 64),
            'spec.template.metadata.labels: Invalid value: "'
            + "x" * 64
            + '": must be no more than 63 '
            "characters",
        ),
    ],
)
def test_invalid_job_names_the_field(change: Edit, expected: str) -> None:
    doc = job_doc()
    change(doc)
    assert_error(jobs.job(created_job(doc)), expected)


def test_job_with_manual_selector_must_select_its_template() -> None:
    doc = job_doc()
    doc["spec"].update(manualSelector=True, selector={"matchLabels": {"app": "api"}})
    assert strings(jobs.job(created_job(doc))) == [
        "spec.template.metadata.labels: Invalid value: "
        '{"app":"web"}: `selector` does not match '
        "template `labels`"
    ]
    doc["spec"]["selector"] = {"matchLabels": {"app": "web"}}
    assert strings(jobs.job(created_job(doc))) == []


def test_job_without_selector_is_required_when_manual() -> None:
    doc = job_doc()
    doc["spec"]["manualSelector"] = True
    assert_error(jobs.job(created_job(doc)), "spec.selector: Required value")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda j: j.spec.selector.match_labels.update({"app": "web"}),
            "spec.selector: Invalid value: ",
        ),
        (
            lambda j: setattr(j.spec.template.spec.containers[0], "image", "nginx:1.28"),
            "spec.template: Invalid value: field is immutable",
        ),
        (
            lambda j: setattr(j.spec, "completions", 3),
            "spec.completions: Invalid value: 3: field is immutable",
        ),
        (
            lambda j: setattr(j.spec, "completion_mode", "Indexed"),
            'spec.completionMode: Invalid value: "Indexed": field is immutable',
        ),
    ],
)
def test_job_update_immutable_fields(change: Callable[[Any], None], expected: str) -> None:
    old = created_job(job_doc())
    new = type(old)()
    new.CopyFrom(old)
    change(new)
    errs = jobs.job_update(new, old)
    assert_error(errs, expected)
    assert any("field is immutable" in e for e in strings(errs))


def test_job_update_allows_what_may_change() -> None:
    old = created_job(job_doc())
    new = type(old)()
    new.CopyFrom(old)
    new.spec.parallelism = 4
    new.spec.suspend = True
    new.spec.active_deadline_seconds = 100
    new.metadata.labels["team"] = "x"
    assert strings(jobs.job_update(new, old)) == []


def test_indexed_job_is_elastic() -> None:
    doc = job_doc()
    doc["spec"].update(completionMode="Indexed", completions=3, parallelism=3)
    old = created_job(doc)
    new = type(old)()
    new.CopyFrom(old)
    new.spec.completions = new.spec.parallelism = 5
    assert strings(jobs.job_update(new, old)) == []


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ({"active": -1}, "status.active: Invalid value: -1"),
        ({"succeeded": -1}, "status.succeeded: Invalid value: -1"),
        ({"failed": -1}, "status.failed: Invalid value: -1"),
        ({"ready": -1}, "status.ready: Invalid value: -1"),
    ],
)
def test_job_status_rules(status: dict[str, Any], expected: str) -> None:
    job = created_job(job_doc())
    job.status.CopyFrom(manifest.from_dict(status, type(job.status)))
    assert_error(jobs.job(job), expected)
