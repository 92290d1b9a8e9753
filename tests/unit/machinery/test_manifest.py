"""Manifests decode strictly, name the bad field, and round-trip."""

from __future__ import annotations

import pytest

from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import manifest

JUMPOD = """\
apiVersion: v1
kind: Pod
metadata:
  name: jumpod
spec:
  containers:
  - name: busybox
    image: busybox
    command:
      - sleep
      - "3600"
    imagePullPolicy: IfNotPresent
  restartPolicy: OnFailure
"""


def test_issue_manifest_decodes_unchanged() -> None:
    [pod] = manifest.load_objects(JUMPOD)
    assert isinstance(pod, core_pb2.Pod)
    assert pod.metadata.name == "jumpod"
    assert list(pod.spec.containers[0].command) == ["sleep", "3600"]
    assert pod.spec.containers[0].image_pull_policy == "IfNotPresent"
    assert pod.spec.restart_policy == "OnFailure"


def test_many_documents_and_lists() -> None:
    text = (
        JUMPOD
        + "---\n"
        + JUMPOD.replace("jumpod", "second")
        + "---\n"
        + (
            "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Namespace\n"
            "  metadata: {name: team}\n"
        )
    )
    objs = manifest.load_objects(text)
    assert [o.metadata.name for o in objs] == ["jumpod", "second", "team"]  # type: ignore[attr-defined]


def test_numbers_become_quantities_and_ports() -> None:
    [pod] = manifest.load_objects(
        JUMPOD.replace(
            "    imagePullPolicy: IfNotPresent\n",
            "    imagePullPolicy: IfNotPresent\n    resources: {requests: {cpu: 1, memory: 64Mi}}\n"
            "    livenessProbe: {httpGet: {port: 8080}}\n",
        )
    )
    c = pod.spec.containers[0]  # type: ignore[attr-defined]
    assert dict(c.resources.requests) == {"cpu": "1", "memory": "64Mi"}
    assert c.liveness_probe.http_get.port == "8080"


def test_empty_dir_is_present() -> None:
    [pod] = manifest.load_objects(JUMPOD + "  volumes:\n  - name: data\n    emptyDir: {}\n")
    assert pod.spec.volumes[0].HasField("empty_dir")  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            JUMPOD.replace("imagePullPolicy", "imagePullPolicyy"),
            'unknown field "spec.containers[0].imagePullPolicyy"',
        ),
        (
            JUMPOD.replace("apiVersion: v1", "apiVersion: v2"),
            'no matches for kind "Pod" in version "v2"',
        ),
        (JUMPOD.replace("kind: Pod", "kind: Pood"), 'no matches for kind "Pood" in version "v1"'),
        (JUMPOD.replace("kind: Pod\n", ""), "kind: Required value"),
        (
            JUMPOD.replace('- "3600"', "- [1]"),
            "spec.containers[0].command[1]: expected string, got array",
        ),
        (
            JUMPOD.replace("restartPolicy: OnFailure", "restartPolicy: [x]"),
            "spec.restartPolicy: expected string, got array",
        ),
        (JUMPOD.replace("containers:", "containers: 3"), "error parsing YAML at line 7, column 3"),
        (
            JUMPOD.replace("  containers:\n", "  containers: 3\n  x:\n"),
            "spec.containers: expected array",
        ),
        ("metadata: {name: [unclosed\n", "error parsing YAML at line 2"),
        ("- a\n- b\n", "a manifest must be an object, got array"),
        (
            JUMPOD + "  terminationGracePeriodSeconds: soon\n",
            "spec.terminationGracePeriodSeconds: expected integer, got string",
        ),
    ],
)
def test_bad_manifests_name_the_problem(text: str, message: str) -> None:
    with pytest.raises(manifest.ManifestError) as err:
        manifest.load_objects(text)
    assert message in str(err.value)


def test_round_trip_through_dict() -> None:
    [pod] = manifest.load_objects(JUMPOD)
    pod.spec.termination_grace_period_seconds = 30  # type: ignore[attr-defined]
    data = manifest.to_dict(pod)
    assert data["spec"]["terminationGracePeriodSeconds"] == 30  # a number, as kubectl shows it
    assert manifest.from_dict(data) == pod
