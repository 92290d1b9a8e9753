"""The nodes' two OCI runtimes with the real kubectl: a RuntimeClass for each of containerd's
handlers, runc and crun, and a pod of each that runs, logs and takes `kubectl exec`; on its node,
containerd ran it with that handler's OCI runtime (`ctr containers info`: the runc shim's options
name crun's binary, docker/crun-oci-1.1.sh)."""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Iterator

import pytest

from tests.e2e.compose_cluster import container_info, node_runtime
from tests.e2e.kubectl import Kubectl

CRUN_BINARY = b"/usr/local/bin/crun-oci-1.1"

POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: {name}
spec:
  runtimeClassName: {runtime_class}
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: busybox
    command: [sh, -c, "echo started on {handler}; exec sleep 3600"]
"""


@pytest.fixture(scope="module")
def k(kubectl_namespace: str) -> Kubectl:
    return Kubectl(kubectl_namespace)


@pytest.fixture(scope="module")
def runtime_classes() -> Iterator[dict[str, str]]:
    """handler -> a RuntimeClass of the test's own for it (cluster-scoped, deleted afterwards)."""
    suffix = secrets.token_hex(3)
    classes = {handler: f"e2e-{handler}-{suffix}" for handler in ("runc", "crun")}
    cluster = Kubectl()
    for handler, name in classes.items():
        runtime_class = {
            "apiVersion": "node.k8s.io/v1",
            "kind": "RuntimeClass",
            "metadata": {"name": name},
            "handler": handler,
        }
        assert cluster.ok("create", "-f", "-", stdin=json.dumps(runtime_class)) == (
            f"runtimeclass.node.k8s.io/{name} created\n"
        )
    yield classes
    for name in classes.values():
        cluster.run("delete", "runtimeclass", name)


@pytest.mark.parametrize("handler", ["runc", "crun"])
def test_a_pod_runs_on_the_handler_its_runtime_class_names(
    k: Kubectl, runtime_classes: dict[str, str], handler: str
) -> None:
    name = f"on-{handler}"
    manifest = POD.format(name=name, runtime_class=runtime_classes[handler], handler=handler)
    assert k.ok("apply", "-f", "-", stdin=manifest) == f"pod/{name} created\n"
    waited = k.run("wait", "--for=condition=Ready", f"pod/{name}", "--timeout=120s")
    assert waited.code == 0, waited
    assert k.ok("logs", name) == f"started on {handler}\n"
    assert k.ok("exec", name, "--", "sh", "-c", "echo $((6 * 7))") == "42\n"

    pod = json.loads(k.ok("get", "pod", name, "-o", "json"))
    node = pod["spec"]["nodeName"]
    if node_runtime(node) != "containerd":
        pytest.fail(f"{node} runs Docker: the handlers are containerd's (make up runs containerd)")
    container_id = pod["status"]["containerStatuses"][0]["containerID"].removeprefix(
        "containerd://"
    )
    runtime = container_info(node, container_id)["Runtime"]
    assert runtime["Name"] == "io.containerd.runc.v2", runtime
    options = base64.b64decode((runtime.get("Options") or {}).get("value", ""))
    assert (CRUN_BINARY in options) == (handler == "crun"), runtime
