"""A container's restartPolicy (sidecars, KEP-753): only init containers may set one, only Always,
and only those sidecars may carry probes and lifecycle hooks among init containers. Each refusal
is Kubernetes' own line, in pods and in the pod templates of every workload kind."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from apiserver.defaulting import jobs as job_defaulting
from apiserver.defaulting import pod as pod_defaulting
from apiserver.defaulting import workloads as workload_defaulting
from apiserver.validation import jobs, workloads
from apiserver.validation import pod as pod_validation
from apiserver.validation import pod_update as pod_update_validation
from apiserver.validation.fields import FieldError
from podplane.apimachinery import manifest

EXEC = {"exec": {"command": ["true"]}}
SPEC: dict[str, Any] = {
    "volumes": [{"name": "logs", "emptyDir": {}}],
    "initContainers": [
        {"name": "setup", "image": "busybox"},
        {
            "name": "shipper",
            "image": "busybox",
            "restartPolicy": "Always",
            "startupProbe": EXEC,
            "readinessProbe": EXEC,
            "livenessProbe": EXEC,
            "lifecycle": {"preStop": EXEC},
        },
    ],
    "containers": [{"name": "app", "image": "busybox"}],
}
NOT_SIDECAR = "may not be set for init containers without restartPolicy=Always"


def with_spec(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    spec = copy.deepcopy(SPEC)
    change(spec)
    return spec


def init(i: int, **fields: Any) -> Callable[[dict[str, Any]], None]:
    def apply(spec: dict[str, Any]) -> None:
        for key, value in fields.items():
            if value is None:
                spec["initContainers"][i].pop(key, None)
            else:
                spec["initContainers"][i][key] = value

    return apply


def app(**fields: Any) -> Callable[[dict[str, Any]], None]:
    return lambda spec: spec["containers"][0].update(fields)


def ephemeral(**fields: Any) -> Callable[[dict[str, Any]], None]:
    return lambda spec: spec.setdefault("ephemeralContainers", []).append(
        {"name": "debugger", "image": "busybox", **fields}
    )


# (change to SPEC, the errors Kubernetes gives, relative to the pod spec's path)
CASES: list[tuple[str, Callable[[dict[str, Any]], None], list[str]]] = [
    ("sidecar", lambda spec: None, []),
    (
        "app-container",
        app(restartPolicy="Always"),
        ["containers[0].restartPolicy: Forbidden: may not be set for non-init containers"],
    ),
    (
        "app-container-never",
        app(restartPolicy="Never"),
        ["containers[0].restartPolicy: Forbidden: may not be set for non-init containers"],
    ),
    (
        "init-on-failure",
        init(0, restartPolicy="OnFailure"),
        [
            'initContainers[0].restartPolicy: Unsupported value: "OnFailure": '
            'supported values: "Always"'
        ],
    ),
    (
        "init-empty",
        init(0, restartPolicy=""),
        ['initContainers[0].restartPolicy: Unsupported value: "": supported values: "Always"'],
    ),
    (
        "probes-without-always",
        init(1, restartPolicy=None),
        [
            f"initContainers[1].lifecycle: Forbidden: {NOT_SIDECAR}",
            f"initContainers[1].livenessProbe: Forbidden: {NOT_SIDECAR}",
            f"initContainers[1].readinessProbe: Forbidden: {NOT_SIDECAR}",
            f"initContainers[1].startupProbe: Forbidden: {NOT_SIDECAR}",
        ],
    ),
    (
        "probes-with-never",
        init(1, restartPolicy="Never"),
        [
            'initContainers[1].restartPolicy: Unsupported value: "Never": '
            'supported values: "Always"',
            f"initContainers[1].lifecycle: Forbidden: {NOT_SIDECAR}",
            f"initContainers[1].livenessProbe: Forbidden: {NOT_SIDECAR}",
            f"initContainers[1].readinessProbe: Forbidden: {NOT_SIDECAR}",
            f"initContainers[1].startupProbe: Forbidden: {NOT_SIDECAR}",
        ],
    ),
]
POD_ONLY_CASES = [
    *CASES,
    (
        "ephemeral",
        ephemeral(restartPolicy="Always"),
        [
            "ephemeralContainers[0].restartPolicy: Forbidden: "
            "cannot be set for an Ephemeral Container"
        ],
    ),
]


def restart_policy_errors(errs: list[FieldError], prefix: str) -> list[str]:
    """The errors about the fields sidecars change, without the prefix of the spec's path."""
    wanted = ("restartPolicy", "lifecycle", "Probe")
    return [
        str(e)[len(prefix) :]
        for e in errs
        if any(w in e.path.rsplit(".", 1)[-1] for w in wanted)
        and "spec.restartPolicy" not in e.path
    ]


def new_pod(spec: dict[str, Any]) -> Any:
    doc = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "ns"}}
    obj: Any = manifest.from_dict({**doc, "spec": spec})
    pod_defaulting.pod(obj)
    return obj


@pytest.mark.parametrize(
    ("change", "expected"), [c[1:] for c in POD_ONLY_CASES], ids=[c[0] for c in POD_ONLY_CASES]
)
def test_pod(change: Callable[[dict[str, Any]], None], expected: list[str]) -> None:
    errs = pod_validation.pod(new_pod(with_spec(change)))
    assert restart_policy_errors(errs, "spec.") == expected
    if not expected:
        assert [str(e) for e in errs] == []


def test_a_sidecar_s_restart_policy_cannot_be_changed_by_an_update() -> None:
    old = new_pod(with_spec(lambda spec: None))
    new = new_pod(
        with_spec(
            init(
                1,
                restartPolicy=None,
                startupProbe=None,
                readinessProbe=None,
                livenessProbe=None,
                lifecycle=None,
            )
        )
    )
    new.metadata.resource_version = old.metadata.resource_version
    assert any(
        e.path == "spec" and e.type == "Forbidden"
        for e in pod_update_validation.pod_update(new, old)
    )


def _template(spec: dict[str, Any], restart_policy: str) -> dict[str, Any]:
    return {
        "metadata": {"labels": {"app": "web"}},
        "spec": {**spec, "restartPolicy": restart_policy},
    }


def _rc(spec: dict[str, Any]) -> Any:
    doc = {
        "apiVersion": "v1",
        "kind": "ReplicationController",
        "metadata": {"name": "web", "namespace": "ns"},
        "spec": {"replicas": 1, "selector": {"app": "web"}, "template": _template(spec, "Always")},
    }
    obj: Any = manifest.from_dict(doc)
    workload_defaulting.replication_controller(obj)
    return workloads.replication_controller(obj)


def _apps(kind: str) -> Callable[[dict[str, Any]], list[FieldError]]:
    def validate(spec: dict[str, Any]) -> list[FieldError]:
        doc = {
            "apiVersion": "apps/v1",
            "kind": kind,
            "metadata": {"name": "web", "namespace": "ns"},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": {"app": "web"}},
                "template": _template(spec, "Always"),
            },
        }
        obj: Any = manifest.from_dict(doc)
        if kind == "Deployment":
            workload_defaulting.deployment(obj)
            return workloads.deployment(obj)
        workload_defaulting.replica_set(obj)
        return workloads.replica_set(obj)

    return validate


def _job(spec: dict[str, Any]) -> Any:
    doc = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": "pi",
            "namespace": "ns",
            "uid": "0b5b8a1f-7c1e-4cde-9e3c-6ad1b0c1f2aa",
        },
        "spec": {"template": _template(spec, "Never")},
    }
    obj: Any = manifest.from_dict(doc)
    job_defaulting.job(obj)
    job_defaulting.generate_job_selector(obj)
    return jobs.job(obj)


KINDS: dict[str, Callable[[dict[str, Any]], list[FieldError]]] = {
    "ReplicationController": _rc,
    "ReplicaSet": _apps("ReplicaSet"),
    "Deployment": _apps("Deployment"),
    "Job": _job,
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("change", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_pod_templates(
    kind: str, change: Callable[[dict[str, Any]], None], expected: list[str]
) -> None:
    errs = KINDS[kind](with_spec(change))
    assert restart_policy_errors(errs, "spec.template.spec.") == expected
    if not expected:
        assert [str(e) for e in errs] == []
