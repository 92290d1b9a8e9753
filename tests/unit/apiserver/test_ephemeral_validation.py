"""Ephemeral containers: what the pods/ephemeralcontainers subresource accepts, what a pod create,
a pod update and a pod template may say about them, each refusal naming its field."""

from __future__ import annotations

from typing import Any

import pytest

from apiserver.defaulting import pod as pod_defaulting
from apiserver.validation import pod as pod_validation
from apiserver.validation import pod_update as pod_update_validation
from apiserver.validation import template
from podplane.apimachinery import manifest

POD_YAML = """
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: default}
spec:
  restartPolicy: Always
  volumes: [{name: data, emptyDir: {}}]
  initContainers: [{name: setup, image: busybox}]
  containers: [{name: app, image: busybox}]
"""


def pod(ephemeral: list[dict[str, Any]] | None = None, **meta: Any) -> Any:
    doc = next(manifest.load_documents(POD_YAML))
    doc["metadata"].update(meta)
    if ephemeral is not None:
        doc["spec"]["ephemeralContainers"] = ephemeral
    obj: Any = manifest.from_dict(doc)
    pod_defaulting.pod(obj)
    return obj


def debugger(**fields: Any) -> dict[str, Any]:
    return {"name": "debugger", "image": "busybox", **fields}


def subresource_errors(new: Any, old: Any) -> list[str]:
    return [str(e) for e in pod_update_validation.pod_ephemeral_containers_update(new, old)]


def test_manifest_fields_decode_with_kubernetes_names() -> None:
    obj = pod(
        [
            debugger(
                targetContainerName="app",
                stdin=True,
                tty=True,
                command=["sh"],
                volumeMounts=[{"name": "data", "mountPath": "/d"}],
            )
        ]
    )
    ec = obj.spec.ephemeral_containers[0]
    assert (ec.name, ec.target_container_name, ec.stdin, ec.tty) == ("debugger", "app", True, True)
    assert ec.termination_message_path == "/dev/termination-log"  # defaulted like a container
    reported: Any = manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "p"},
            "status": {
                "ephemeralContainerStatuses": [{"name": "debugger", "state": {"running": {}}}]
            },
        }
    )
    assert reported.status.ephemeral_container_statuses[0].name == "debugger"
    assert manifest.to_dict(obj)["spec"]["ephemeralContainers"][0]["targetContainerName"] == "app"


def test_adding_an_ephemeral_container_is_valid() -> None:
    old = pod()
    assert subresource_errors(pod([debugger(targetContainerName="app")]), old) == []
    one = pod([debugger()])
    assert subresource_errors(pod([debugger(), debugger(name="second")]), one) == []


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {"ports": [{"containerPort": 80}]},
            "spec.ephemeralContainers[0].ports: Forbidden: "
            "cannot be set for an Ephemeral Container",
        ),
        (
            {"resources": {"limits": {"cpu": "1"}}},
            "spec.ephemeralContainers[0].resources: Forbidden: "
            "cannot be set for an Ephemeral Container",
        ),
        (
            {"livenessProbe": {"exec": {"command": ["true"]}}},
            "spec.ephemeralContainers[0].livenessProbe: Forbidden",
        ),
        (
            {"readinessProbe": {"tcpSocket": {"port": "80"}}},
            "spec.ephemeralContainers[0].readinessProbe: Forbidden",
        ),
        (
            {"startupProbe": {"exec": {"command": ["true"]}}},
            "spec.ephemeralContainers[0].startupProbe: Forbidden",
        ),
        (
            {"lifecycle": {"preStop": {"exec": {"command": ["true"]}}}},
            "spec.ephemeralContainers[0].lifecycle: Forbidden",
        ),
        (
            {"targetContainerName": "nope"},
            'spec.ephemeralContainers[0].targetContainerName: Not found: "nope"',
        ),
        ({"name": "app"}, 'spec.ephemeralContainers[0].name: Duplicate value: "app"'),
        ({"name": "setup"}, 'spec.ephemeralContainers[0].name: Duplicate value: "setup"'),
        ({"name": "Bad_Name"}, 'spec.ephemeralContainers[0].name: Invalid value: "Bad_Name"'),
        ({"image": ""}, "spec.ephemeralContainers[0].image: Required value"),
        (
            {"volumeMounts": [{"name": "nope", "mountPath": "/x"}]},
            'spec.ephemeralContainers[0].volumeMounts[0].name: Not found: "nope"',
        ),
        (
            {"volumeMounts": [{"name": "data", "mountPath": "/x", "subPath": "a"}]},
            "spec.ephemeralContainers[0].volumeMounts[0].subPath: Forbidden",
        ),
    ],
)
def test_bad_ephemeral_container_names_its_field(fields: dict[str, Any], expected: str) -> None:
    errors = subresource_errors(pod([debugger(**fields)]), pod())
    assert any(e.startswith(expected) for e in errors), errors


def test_names_are_unique_among_ephemeral_containers() -> None:
    errors = subresource_errors(pod([debugger(), debugger()]), pod())
    assert 'spec.ephemeralContainers[1].name: Duplicate value: "debugger"' in errors


def test_existing_ephemeral_containers_may_not_be_removed_or_changed() -> None:
    old = pod([debugger()])
    assert subresource_errors(pod([]), old) == [
        'spec.ephemeralContainers: Forbidden: existing ephemeral containers "debugger" may not '
        "be removed"
    ]
    assert subresource_errors(pod([debugger(image="alpine")]), old) == [
        'spec.ephemeralContainers: Forbidden: existing ephemeral containers "debugger" may not '
        "be changed"
    ]


def test_mirror_pods_take_no_ephemeral_containers() -> None:
    mark = {pod_validation.MIRROR_POD_ANNOTATION: "abc"}
    old = pod(annotations=mark)
    assert subresource_errors(pod([debugger()], annotations=mark), old) == [
        "spec.ephemeralContainers: Forbidden: static pods do not support ephemeral containers"
    ]


def test_create_may_not_set_ephemeral_containers() -> None:
    errors = [str(e) for e in pod_validation.pod_create(pod([debugger()]))]
    assert errors == ["spec.ephemeralContainers: Forbidden: cannot be set on create"]
    assert pod_validation.pod_create(pod()) == []


def test_pod_update_may_not_change_ephemeral_containers() -> None:
    old = pod([debugger()])
    for new in (pod([]), pod([debugger(), debugger(name="more")])):
        assert [str(e) for e in pod_update_validation.pod_update(new, old)] == [
            "spec.ephemeralContainers: Forbidden: may only be changed through the "
            "pods/ephemeralcontainers subresource (podctl debug)"
        ]
    same = pod([debugger()])
    same.spec.containers[0].image = "busybox:1.36"  # an allowed change, with them unchanged
    assert pod_update_validation.pod_update(same, old) == []


def test_pod_templates_have_no_ephemeral_containers() -> None:
    # A pod stands for the template: the same metadata and spec.
    tmpl: Any = manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "t"},
            "spec": {
                "containers": [{"name": "a", "image": "x"}],
                "restartPolicy": "Always",
                "ephemeralContainers": [debugger()],
            },
        }
    )
    errors = [str(e) for e in template.pod_template("spec.template", tmpl)]
    assert (
        "spec.template.spec.ephemeralContainers: Forbidden: ephemeral containers not allowed "
        "in pod template"
    ) in errors
