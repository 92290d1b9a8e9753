"""Validation tables: each bad field yields an error naming its path; good objects pass."""

from __future__ import annotations

from typing import Any

import pytest

from apiserver.defaulting import pod as pod_defaulting
from apiserver.validation import others
from apiserver.validation import pod as pod_validation
from apiserver.validation import pod_update as pod_update_validation
from podplane.apimachinery import manifest


def make_pod(spec: dict[str, Any] | None = None, **meta: Any) -> Any:
    return manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "web", **meta},
            "spec": spec
            if spec is not None
            else {"containers": [{"name": "main", "image": "busybox"}], "restartPolicy": "Always"},
        }
    )


def errors_of(obj: Any) -> list[str]:
    return [str(e) for e in pod_validation.pod(obj)]


def test_valid_pod_has_no_errors() -> None:
    assert errors_of(make_pod()) == []


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"containers": [], "restartPolicy": "Always"}, "spec.containers: Required value"),
        (
            {"containers": [{"name": "a"}], "restartPolicy": "Always"},
            "spec.containers[0].image: Required value",
        ),
        (
            {"containers": [{"image": "x"}], "restartPolicy": "Always"},
            "spec.containers[0].name: Required value",
        ),
        (
            {"containers": [{"name": "A_b", "image": "x"}], "restartPolicy": "Always"},
            'spec.containers[0].name: Invalid value: "A_b"',
        ),
        (
            {
                "containers": [{"name": "a", "image": "x"}, {"name": "a", "image": "y"}],
                "restartPolicy": "Always",
            },
            'spec.containers[1].name: Duplicate value: "a"',
        ),
        (
            {"containers": [{"name": "a", "image": "x"}], "restartPolicy": "Sometimes"},
            'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", '
            '"OnFailure", "Never"',
        ),
        (
            {
                "containers": [{"name": "a", "image": "x", "imagePullPolicy": "Maybe"}],
                "restartPolicy": "Always",
            },
            'spec.containers[0].imagePullPolicy: Unsupported value: "Maybe"',
        ),
        (
            {
                "containers": [{"name": "a", "image": "x", "ports": [{"containerPort": 70000}]}],
                "restartPolicy": "Always",
            },
            "spec.containers[0].ports[0].containerPort: Invalid value: 70000",
        ),
        (
            {
                "containers": [
                    {
                        "name": "a",
                        "image": "x",
                        "volumeMounts": [{"name": "nope", "mountPath": "/d"}],
                    }
                ],
                "restartPolicy": "Always",
            },
            'spec.containers[0].volumeMounts[0].name: Not found: "nope"',
        ),
        (
            {
                "containers": [
                    {"name": "a", "image": "x", "resources": {"requests": {"cpu": "lots"}}}
                ],
                "restartPolicy": "Always",
            },
            'spec.containers[0].resources.requests[cpu]: Invalid value: "lots"',
        ),
        (
            {
                "containers": [
                    {
                        "name": "a",
                        "image": "x",
                        "resources": {"requests": {"memory": "2Gi"}, "limits": {"memory": "1Gi"}},
                    }
                ],
                "restartPolicy": "Always",
            },
            'spec.containers[0].resources.requests[memory]: Invalid value: "2Gi": '
            "must be less than or equal to memory limit of 1Gi",
        ),
        (
            {
                "volumes": [{"name": "v"}],
                "containers": [{"name": "a", "image": "x"}],
                "restartPolicy": "Always",
            },
            "spec.volumes[0]: Required value: must specify a volume type",
        ),
        (
            {
                "volumes": [{"name": "v", "emptyDir": {}}, {"name": "v", "emptyDir": {}}],
                "containers": [{"name": "a", "image": "x"}],
                "restartPolicy": "Always",
            },
            'spec.volumes[1].name: Duplicate value: "v"',
        ),
        (
            {
                "initContainers": [{"name": "a", "image": "x"}],
                "containers": [{"name": "a", "image": "x"}],
                "restartPolicy": "Always",
            },
            # Kubernetes reports the init container, checked after the app containers.
            'spec.initContainers[0].name: Duplicate value: "a"',
        ),
        (
            {
                "containers": [{"name": "a", "image": "x"}],
                "restartPolicy": "Always",
                "tolerations": [{"key": "k", "operator": "Sometimes"}],
            },
            'spec.tolerations[0].operator: Unsupported value: "Sometimes"',
        ),
    ],
)
def test_invalid_pod_specs_name_the_field(spec: dict[str, Any], expected: str) -> None:
    errs = errors_of(make_pod(spec))
    assert any(e.startswith(expected) for e in errs), errs


@pytest.mark.parametrize(
    ("meta", "expected"),
    [
        ({"name": "Web"}, 'metadata.name: Invalid value: "Web"'),
        ({"name": "a" * 254}, "metadata.name: Invalid value"),
        ({"name": ""}, "metadata.name: Required value"),
        ({"namespace": "Bad_NS"}, 'metadata.namespace: Invalid value: "Bad_NS"'),
        ({"labels": {"app": "a b"}}, 'metadata.labels: Invalid value: "a b"'),
        ({"labels": {"-bad": "x"}}, 'metadata.labels: Invalid value: "-bad"'),
        ({"annotations": {"ok": "x" * 300_000}}, "metadata.annotations: Too long"),
    ],
)
def test_invalid_metadata_names_the_field(meta: dict[str, Any], expected: str) -> None:
    errs = errors_of(make_pod(**meta))
    assert any(e.startswith(expected) for e in errs), errs


def test_pod_update_may_change_only_images() -> None:
    old = make_pod()
    pod_defaulting.pod(old)
    new = type(old)()
    new.CopyFrom(old)
    new.spec.containers[0].image = "busybox:1.36"
    assert pod_update_validation.pod_update(new, old) == []
    new.spec.restart_policy = "Never"
    errs = [str(e) for e in pod_update_validation.pod_update(new, old)]
    assert errs and errs[0].startswith("spec: Forbidden: pod updates may not change fields")


def test_node_validation() -> None:
    node: Any = manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {"name": "n1"},
            "spec": {"podCIDR": "10.244.1.0/33", "taints": [{"key": "k", "effect": "Sometimes"}]},
        }
    )
    errs = [str(e) for e in others.node(node)]
    assert any(e.startswith('spec.podCIDR: Invalid value: "10.244.1.0/33"') for e in errs)
    assert any(e.startswith('spec.taints[0].effect: Unsupported value: "Sometimes"') for e in errs)
