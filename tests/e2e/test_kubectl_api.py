"""The API as kubectl finds it and the errors it prints, with the real kubectl on the compose
cluster: version, api-resources, explain; then the lines a user reads when a request is refused
(a manifest with an unknown field, an invalid one, the viewer's forbidden write, a stale replace,
a missing object, one that exists) and a server-side dry run. Only configmaps and refused pods:
nothing here runs a container."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.e2e.kubectl import VIEWER_KUBECONFIG, Kubectl, Result

UNKNOWN_FIELD_POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: typo
spec:
  containers:
  - name: c
    image: busybox
    imagePullPolicee: Always
"""
INVALID_POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: Bad_Name
spec:
  containers:
  - name: c
"""
UNKNOWN_FIELD_CONFIGMAP = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: loose
data:
  mode: fast
colour: blue
"""


@pytest.fixture(scope="module")
def k(kubectl_namespace: str) -> Kubectl:
    return Kubectl(kubectl_namespace)


@pytest.fixture(scope="module")
def viewer(kubectl_namespace: str) -> Kubectl:
    return Kubectl(kubectl_namespace, kubeconfig=VIEWER_KUBECONFIG)


def manifest(tmp_path: Path, text: str) -> str:
    path = tmp_path / "manifest.yaml"
    path.write_text(text)
    return str(path)


def test_version_names_the_server(k: Kubectl) -> None:
    out = k.ok("version")
    assert re.search(r"^Client Version: v1\.\d+\.\d+", out, re.M), out
    assert re.search(r"^Server Version: v1\.31\.0\+podplane$", out, re.M), out


def test_api_resources_lists_every_kind_served(k: Kubectl) -> None:
    out = k.ok("api-resources")
    header, *rows = out.splitlines()
    assert re.fullmatch(r"NAME\s+SHORTNAMES\s+APIVERSION\s+NAMESPACED\s+KIND", header), header
    table = {tuple(re.split(r"\s+", row.strip())) for row in rows}
    assert {
        ("pods", "po", "v1", "true", "Pod"),
        ("nodes", "no", "v1", "false", "Node"),
        ("namespaces", "ns", "v1", "false", "Namespace"),
        ("configmaps", "cm", "v1", "true", "ConfigMap"),
        ("secrets", "v1", "true", "Secret"),
        ("events", "ev", "v1", "true", "Event"),
        ("replicationcontrollers", "rc", "v1", "true", "ReplicationController"),
        ("deployments", "deploy", "apps/v1", "true", "Deployment"),
        ("replicasets", "rs", "apps/v1", "true", "ReplicaSet"),
        ("jobs", "batch/v1", "true", "Job"),
        ("leases", "coordination.k8s.io/v1", "true", "Lease"),
    } <= table, out
    cluster_scoped = k.ok("api-resources", "--namespaced=false", "-o", "name").split()
    assert {"nodes", "namespaces"} <= set(cluster_scoped), cluster_scoped


def test_explain_reads_the_servers_openapi(k: Kubectl) -> None:
    out = k.ok("explain", "pod.spec")
    assert out.startswith("KIND:       Pod\nVERSION:    v1\n\nFIELD: spec <PodSpec>\n"), out
    assert re.search(r"^  containers\t<\[\]Container> -required-$", out, re.M), out
    replicas = k.ok("explain", "deployment.spec.replicas")
    assert "GROUP:      apps\nKIND:       Deployment\nVERSION:    v1\n" in replicas, replicas
    assert "FIELD: replicas <integer>" in replicas, replicas


def test_an_unknown_field_is_refused_by_name(k: Kubectl, tmp_path: Path) -> None:
    path = manifest(tmp_path, UNKNOWN_FIELD_POD)
    assert k.run("apply", "-f", path) == Result(
        1,
        "",
        f'Error from server (BadRequest): error when creating "{path}": Pod in version "v1" '
        "cannot be handled as a Pod: strict decoding error: unknown field "
        '"spec.containers[0].imagePullPolicee"\n',
    )


def test_an_unknown_field_is_a_warning_when_asked(k: Kubectl, tmp_path: Path) -> None:
    path = manifest(tmp_path, UNKNOWN_FIELD_CONFIGMAP)
    assert k.run("apply", "--validate=warn", "-f", path) == Result(
        0, "configmap/loose created\n", 'Warning: unknown field "colour"\n'
    )


def test_an_invalid_object_is_refused_with_every_field_named(k: Kubectl, tmp_path: Path) -> None:
    path = manifest(tmp_path, INVALID_POD)
    assert k.run("apply", "-f", path) == Result(
        1,
        "",
        'The Pod "Bad_Name" is invalid: \n'
        '* metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist '
        "of lower case alphanumeric characters, '-' or '.', and must start and end with an "
        "alphanumeric character (e.g. 'example.com', regex used for validation is "
        "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')\n"
        "* spec.containers[0].image: Required value\n",
    )


def test_the_viewer_reads_but_may_not_write(
    k: Kubectl, viewer: Kubectl, kubectl_namespace: str
) -> None:
    assert k.ok("create", "configmap", "shared", "--from-literal=a=1") == (
        "configmap/shared created\n"
    )
    listed = viewer.ok("get", "configmaps", "shared")
    assert re.match(r"NAME\s+DATA\s+AGE\nshared\s+1\s+\S+\n$", listed), listed
    assert viewer.run("delete", "configmap", "shared") == Result(
        1,
        "",
        'Error from server (Forbidden): configmaps "shared" is forbidden: User "viewer" cannot '
        f'delete resource "configmaps" in API group "" in the namespace "{kubectl_namespace}"\n',
    )


def test_replacing_a_stale_copy_is_a_conflict(k: Kubectl, tmp_path: Path) -> None:
    assert k.ok("create", "configmap", "settings", "--from-literal=mode=slow") == (
        "configmap/settings created\n"
    )
    old = tmp_path / "settings.yaml"
    old.write_text(k.ok("get", "configmap", "settings", "-o", "yaml"))
    assert k.ok("label", "configmap", "settings", "by=someone-else") == (
        "configmap/settings labeled\n"
    )
    assert k.run("replace", "-f", str(old)) == Result(
        1,
        "",
        f'Error from server (Conflict): error when replacing "{old}": Operation cannot be '
        'fulfilled on configmaps "settings": the object has been modified; please apply your '
        "changes to the latest version and try again\n",
    )
    fresh = tmp_path / "fresh.yaml"
    fresh.write_text(k.ok("get", "configmap", "settings", "-o", "yaml").replace("slow", "fast"))
    assert k.run("replace", "-f", str(fresh)) == Result(0, "configmap/settings replaced\n", "")


def test_a_missing_object_is_not_found(k: Kubectl, kubectl_namespace: str) -> None:
    for args, line in [
        (("get", "pod", "nothere"), 'pods "nothere" not found'),
        (("delete", "configmap", "nothere"), 'configmaps "nothere" not found'),
        (("describe", "pod", "nothere"), 'pods "nothere" not found'),
    ]:
        assert k.run(*args) == Result(1, "", f"Error from server (NotFound): {line}\n"), args
    # kubectl logs words it its own way.
    assert k.run("logs", "nothere") == Result(
        1,
        "",
        'error: error from server (NotFound): pods "nothere" not found in namespace '
        f'"{kubectl_namespace}"\n',
    )


def test_a_missing_object_of_a_named_group_is_named_with_its_group(k: Kubectl) -> None:
    """Kubernetes names a resource by its GroupResource: deployments.apps."""
    assert k.run("get", "deployment", "nothere") == Result(
        1, "", 'Error from server (NotFound): deployments.apps "nothere" not found\n'
    )


def test_an_existing_object_is_not_created_twice(k: Kubectl, tmp_path: Path) -> None:
    assert k.ok("create", "configmap", "once") == "configmap/once created\n"
    # kubectl's generator commands say it their own way; create -f as the server does.
    assert k.run("create", "configmap", "once") == Result(
        1, "", 'error: failed to create configmap: configmaps "once" already exists\n'
    )
    path = manifest(tmp_path, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: once\n")
    assert k.run("create", "-f", path) == Result(
        1,
        "",
        f'Error from server (AlreadyExists): error when creating "{path}": configmaps "once" '
        "already exists\n",
    )


def test_a_server_side_dry_run_stores_nothing(k: Kubectl) -> None:
    dry = k.run("create", "configmap", "dry", "--from-literal=a=b", "--dry-run=server")
    assert dry == Result(0, "configmap/dry created (server dry run)\n", "")
    assert k.run("get", "configmap", "dry").code == 1
