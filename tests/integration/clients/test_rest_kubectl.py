"""Real kubectl against the REST door of the real apiserver (real etcd, TLS, the admin's client
certificate and the viewer's bearer token): what a user types and what kubectl prints back, its
exit codes included, as against Kubernetes."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
import yaml

from tests.integration.rest_cluster import RestCluster, rest_cluster
from tests.support import EtcdProcess


@pytest_asyncio.fixture(scope="module")
async def cluster(
    etcd: EtcdProcess, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RestCluster]:
    async with rest_cluster(etcd, tmp_path_factory.mktemp("rest-kubectl")) as c:
        yield c


async def namespace(cluster: RestCluster) -> str:
    name = f"kc-{uuid.uuid4().hex[:6]}"
    assert await cluster.kubectl_ok("create", "namespace", name) == f"namespace/{name} created\n"
    return name


def pod_manifest(name: str, image: str = "nginx:1.27", **labels: str) -> str:
    return yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "labels": labels or {"app": name}},
            "spec": {"containers": [{"name": "web", "image": image}]},
        }
    )


def columns(line: str) -> list[str]:
    """A table line's cells (kubectl separates columns by at least two spaces... or three)."""
    return re.split(r"\s{2,}", line.strip())


async def test_version_and_api_resources(cluster: RestCluster) -> None:
    version = json.loads(await cluster.kubectl_ok("version", "-o", "json"))
    assert version["serverVersion"]["gitVersion"].startswith("v1.31.")
    assert version["serverVersion"]["major"] == "1"
    # Go's names: the client's platform and the server's are written alike.
    assert version["serverVersion"]["platform"] == version["clientVersion"]["platform"]
    listed = (await cluster.kubectl_ok("api-resources")).splitlines()
    assert columns(listed[0]) == ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]
    rows = {columns(line)[0]: columns(line) for line in listed[1:]}
    assert rows["pods"] == ["pods", "po", "v1", "true", "Pod"]
    assert rows["deployments"] == ["deployments", "deploy", "apps/v1", "true", "Deployment"]
    assert rows["nodes"] == ["nodes", "no", "v1", "false", "Node"]
    assert rows["leases"] == ["leases", "coordination.k8s.io/v1", "true", "Lease"]


async def test_apply_creates_then_leaves_unchanged_then_configures(cluster: RestCluster) -> None:
    ns = await namespace(cluster)
    manifest = pod_manifest("web")
    assert (
        await cluster.kubectl_ok("apply", "-n", ns, "-f", "-", stdin=manifest)
        == "pod/web created\n"
    )
    assert (
        await cluster.kubectl_ok("apply", "-n", ns, "-f", "-", stdin=manifest)
        == "pod/web unchanged\n"
    )
    changed = pod_manifest("web", image="nginx:1.28")
    assert (
        await cluster.kubectl_ok("apply", "-n", ns, "-f", "-", stdin=changed)
        == "pod/web configured\n"
    )
    pod = json.loads(await cluster.kubectl_ok("get", "-n", ns, "pod", "web", "-o", "json"))
    assert pod["spec"]["containers"][0]["image"] == "nginx:1.28"
    applied = json.loads(
        pod["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
    )
    assert applied["spec"]["containers"][0]["image"] == "nginx:1.28"
    # Defaults a user sees in -o yaml, as Kubernetes sets them.
    as_yaml = yaml.safe_load(await cluster.kubectl_ok("get", "-n", ns, "pod", "web", "-o", "yaml"))
    assert as_yaml["kind"] == "Pod" and as_yaml["apiVersion"] == "v1"
    assert as_yaml["spec"]["restartPolicy"] == "Always"
    assert as_yaml["status"]["phase"] == "Pending"


async def test_get_prints_kubernetes_columns(cluster: RestCluster) -> None:
    ns = await namespace(cluster)
    await cluster.kubectl_ok("apply", "-n", ns, "-f", "-", stdin=pod_manifest("web"))
    plain = (await cluster.kubectl_ok("get", "-n", ns, "pods")).splitlines()
    assert columns(plain[0]) == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert columns(plain[1])[:4] == ["web", "0/1", "Pending", "0"]
    wide = (await cluster.kubectl_ok("get", "-n", ns, "pods", "-o", "wide")).splitlines()
    assert wide[0].split() == [
        "NAME",
        "READY",
        "STATUS",
        "RESTARTS",
        "AGE",
        "IP",
        "NODE",
        "NOMINATED",
        "NODE",
        "READINESS",
        "GATES",
    ]
    assert columns(wide[0]) == [
        "NAME",
        "READY",
        "STATUS",
        "RESTARTS",
        "AGE",
        "IP",
        "NODE",
        "NOMINATED NODE",
        "READINESS GATES",
    ]
    assert columns(wide[1])[5:] == ["<none>", "<none>", "<none>", "<none>"]
    labelled = (await cluster.kubectl_ok("get", "-n", ns, "pods", "--show-labels")).splitlines()
    assert columns(labelled[0])[-1] == "LABELS" and columns(labelled[1])[-1] == "app=web"
    names = await cluster.kubectl_ok("get", "-n", ns, "pods", "-o", "name")
    assert names == "pod/web\n"
    listed = json.loads(await cluster.kubectl_ok("get", "-n", ns, "pods", "-o", "json"))
    assert listed["kind"] == "List" and [p["metadata"]["name"] for p in listed["items"]] == ["web"]
    none = await cluster.kubectl("get", "-n", ns, "pods", "-l", "app=nothing")
    assert (none.code, none.out, none.err) == (0, "", f"No resources found in {ns} namespace.\n")


async def test_get_watch_prints_the_change(cluster: RestCluster) -> None:
    ns = await namespace(cluster)
    await cluster.kubectl_ok("apply", "-n", ns, "-f", "-", stdin=pod_manifest("web"))
    watch = await cluster.start_kubectl(
        "get", "-n", ns, "pods", "-w", "--output-watch-events", "--request-timeout=30s"
    )
    assert watch.stdout is not None
    try:
        async with asyncio.timeout(30):
            header = (await watch.stdout.readline()).decode()
        assert columns(header) == ["EVENT", "NAME", "READY", "STATUS", "RESTARTS", "AGE"]
        async with asyncio.timeout(30):
            added = (await watch.stdout.readline()).decode()
        assert columns(added)[:2] == ["ADDED", "web"]
        await cluster.kubectl_ok("label", "-n", ns, "pod", "web", "seen=yes")
        async with asyncio.timeout(30):
            modified = (await watch.stdout.readline()).decode()
        assert columns(modified)[:4] == ["MODIFIED", "web", "0/1", "Pending"]
        await cluster.kubectl_ok("delete", "-n", ns, "pod", "web")
        async with asyncio.timeout(30):
            deleted = (await watch.stdout.readline()).decode()
        assert columns(deleted)[:2] == ["DELETED", "web"]
    finally:
        watch.terminate()
        await watch.wait()


async def test_label_annotate_and_patch_of_each_type(cluster: RestCluster) -> None:
    ns = await namespace(cluster)
    await cluster.kubectl_ok("apply", "-n", ns, "-f", "-", stdin=pod_manifest("web"))
    results = [
        await cluster.kubectl_ok("label", "-n", ns, "pod", "web", "tier=front"),
        await cluster.kubectl_ok("annotate", "-n", ns, "pod", "web", "owner=team-a"),
        await cluster.kubectl_ok(
            "patch",
            "-n",
            ns,
            "pod",
            "web",
            "-p",
            '{"spec":{"containers":[{"name":"web","image":"nginx:1.29"}]}}',
        ),
        await cluster.kubectl_ok(
            "patch",
            "-n",
            ns,
            "pod",
            "web",
            "--type=merge",
            "-p",
            '{"metadata":{"labels":{"merged":"yes"}}}',
        ),
        await cluster.kubectl_ok(
            "patch",
            "-n",
            ns,
            "pod",
            "web",
            "--type=json",
            "-p",
            '[{"op":"add","path":"/metadata/labels/json","value":"yes"},'
            '{"op":"remove","path":"/metadata/annotations/owner"}]',
        ),
    ]
    assert results == ["pod/web labeled\n", "pod/web annotated\n"] + ["pod/web patched\n"] * 3
    pod = json.loads(await cluster.kubectl_ok("get", "-n", ns, "pod", "web", "-o", "json"))
    assert pod["metadata"]["labels"] == {
        "app": "web",
        "tier": "front",
        "merged": "yes",
        "json": "yes",
    }
    assert "owner" not in pod["metadata"].get("annotations", {})
    # The strategic merge patch merged the container by name: one container, the new image.
    assert [(c["name"], c["image"]) for c in pod["spec"]["containers"]] == [("web", "nginx:1.29")]
    unchanged = await cluster.kubectl_ok("label", "-n", ns, "pod", "web", "tier-")
    assert unchanged == "pod/web unlabeled\n"
    # A JSON patch that does not apply is a 422 kubectl prints as an invalid request.
    bad = await cluster.kubectl(
        "patch",
        "-n",
        ns,
        "pod",
        "web",
        "--type=json",
        "-p",
        '[{"op":"remove","path":"/metadata/labels/absent"}]',
    )
    assert (bad.code, bad.err) == (
        1,
        "The request is invalid: error in remove for path: "
        "'/metadata/labels/absent': Unable to remove nonexistent "
        "key: absent: missing value\n",
    )


async def test_delete_wait_and_wait_for_delete(cluster: RestCluster) -> None:
    ns = await namespace(cluster)
    for name in ("one", "two"):
        await cluster.kubectl_ok("apply", "-n", ns, "-f", "-", stdin=pod_manifest(name))
    waiter = await cluster.start_kubectl(
        "wait", "-n", ns, "--for=delete", "pod/two", "--timeout=30s"
    )
    await cluster.watching("pods", ns)
    deleted = await cluster.kubectl_ok("delete", "-n", ns, "pod", "one", "two", "--wait")
    # kubectl 1.36 names the namespace it deleted from.
    assert (
        deleted == f'pod "one" deleted from {ns} namespace\npod "two" deleted from {ns} namespace\n'
    )
    async with asyncio.timeout(40):
        out, err = await waiter.communicate()
    assert waiter.returncode == 0, err.decode()
    assert out.decode() == "pod/two condition met\n"
    gone = await cluster.kubectl("get", "-n", ns, "pod", "one")
    assert (gone.code, gone.err) == (1, 'Error from server (NotFound): pods "one" not found\n')


async def test_describe_pod_shows_its_events(cluster: RestCluster) -> None:
    ns = await namespace(cluster)
    await cluster.kubectl_ok("apply", "-n", ns, "-f", "-", stdin=pod_manifest("web"))
    uid = await cluster.kubectl_ok("get", "-n", ns, "pod", "web", "-o", "jsonpath={.metadata.uid}")
    event = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": "web.scheduled"},
        "involvedObject": {
            "apiVersion": "v1",
            "kind": "Pod",
            "name": "web",
            "namespace": ns,
            "uid": uid,
        },
        "reason": "Scheduled",
        "message": f"Successfully assigned {ns}/web to node-1",
        "type": "Normal",
        "source": {"component": "default-scheduler"},
        "count": 1,
        "firstTimestamp": "2026-01-01T00:00:00Z",
        "lastTimestamp": "2026-01-01T00:00:00Z",
    }
    assert (
        await cluster.kubectl_ok("create", "-n", ns, "-f", "-", stdin=json.dumps(event))
        == "event/web.scheduled created\n"
    )
    described = await cluster.kubectl_ok("describe", "-n", ns, "pod", "web")
    fields = dict(re.findall(r"^(\w[\w-]*):\s+(.*)$", described, re.MULTILINE))
    assert fields["Name"] == "web" and fields["Namespace"] == ns
    assert fields["Status"] == "Pending" and fields["Labels"] == "app=web"
    events = described[described.index("Events:") :].splitlines()
    assert columns(events[1]) == ["Type", "Reason", "Age", "From", "Message"]
    row = columns(events[3])
    assert row[:2] == ["Normal", "Scheduled"]
    assert row[3:] == ["default-scheduler", f"Successfully assigned {ns}/web to node-1"]
    listed = (await cluster.kubectl_ok("get", "-n", ns, "events")).splitlines()
    assert columns(listed[0]) == ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    assert columns(listed[1])[1:] == [
        "Normal",
        "Scheduled",
        "pod/web",
        f"Successfully assigned {ns}/web to node-1",
    ]


async def test_explain_prints_field_descriptions(cluster: RestCluster) -> None:
    explained = await cluster.kubectl_ok("explain", "pod.spec")
    assert explained.startswith("KIND:       Pod\nVERSION:    v1\n\nFIELD: spec <PodSpec>\n")
    assert "DESCRIPTION:" in explained and "FIELDS:" in explained
    assert re.search(r"^  containers\t<\[\]Container> -required-\n    \S", explained, re.MULTILINE)
    image = await cluster.kubectl_ok("explain", "pod.spec.containers.image")
    assert "FIELD: image <string>" in image
    assert "container image" in image.split("DESCRIPTION:")[1].lower()


async def test_error_lines_are_kubernetes_ones(cluster: RestCluster) -> None:
    ns = await namespace(cluster)
    unknown = pod_manifest("typo").replace(
        "image: nginx:1.27", "image: nginx:1.27\n    imagePullPolicyy: Always"
    )
    strict = await cluster.kubectl("apply", "-n", ns, "--validate=strict", "-f", "-", stdin=unknown)
    assert strict.code == 1
    assert strict.err.startswith("Error from server (BadRequest): error when creating")
    assert (
        'Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown '
        'field "spec.containers[0].imagePullPolicyy"' in strict.err
    )
    warned = await cluster.kubectl("create", "-n", ns, "--validate=warn", "-f", "-", stdin=unknown)
    assert warned.code == 0 and warned.out == "pod/typo created\n"
    assert 'Warning: unknown field "spec.containers[0].imagePullPolicyy"' in warned.err

    invalid = yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "x"},
            "spec": {"containers": [{"name": "web"}]},
        }
    )
    refused = await cluster.kubectl("create", "-n", ns, "-f", "-", stdin=invalid)
    assert (refused.code, refused.err) == (
        1,
        'The Pod "x" is invalid: spec.containers[0].image: Required value\n',
    )

    # YAML's number where Kubernetes' type is a string, and a time that is not one.
    number = yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "num"},
            "spec": {
                "containers": [
                    {"name": "web", "image": "nginx", "env": [{"name": "PORT", "value": 80}]}
                ]
            },
        }
    )
    wrong_type = await cluster.kubectl("create", "-n", ns, "-f", "-", stdin=number)
    assert (wrong_type.code, wrong_type.err) == (
        1,
        'Error from server (BadRequest): error when creating "STDIN": Pod in version "v1" '
        "cannot be handled as a Pod: spec.containers[0].env[0].value: expected string, got "
        "number\n",
    )
    event = yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": "e"},
            "involvedObject": {"kind": "Pod", "name": "typo"},
            "lastTimestamp": "yesterday",
        }
    )
    bad_time = await cluster.kubectl("create", "-n", ns, "-f", "-", stdin=event)
    assert bad_time.code == 1 and bad_time.err.startswith(
        'Error from server (BadRequest): error when creating "STDIN": Event in version "v1" '
        'cannot be handled as a Event: lastTimestamp: parsing time "yesterday"'
    )

    forbidden = await cluster.kubectl("delete", "-n", ns, "pod", "typo", context="viewer")
    assert (forbidden.code, forbidden.err) == (
        1,
        f'Error from server (Forbidden): pods "typo" is forbidden: User "viewer" cannot '
        f'delete resource "pods" in API group "" in the namespace "{ns}"\n',
    )
    # The viewer may read.
    assert "typo" in await cluster.kubectl_ok("get", "-n", ns, "pods", context="viewer")

    missing = await cluster.kubectl("get", "-n", ns, "pod", "x")
    assert (missing.code, missing.err) == (1, 'Error from server (NotFound): pods "x" not found\n')


async def test_replace_with_a_stale_version_conflicts(cluster: RestCluster, tmp_path: Path) -> None:
    ns = await namespace(cluster)
    await cluster.kubectl_ok("apply", "-n", ns, "-f", "-", stdin=pod_manifest("web"))
    old = await cluster.kubectl_ok("get", "-n", ns, "pod", "web", "-o", "yaml")
    await cluster.kubectl_ok("label", "-n", ns, "pod", "web", "changed=yes")
    stale = await cluster.kubectl("replace", "-f", "-", stdin=old)
    assert stale.code == 1
    assert stale.err == (
        'Error from server (Conflict): error when replacing "STDIN": Operation '
        'cannot be fulfilled on pods "web": the object has been modified; '
        "please apply your changes to the latest version and try again\n"
    )
    current = await cluster.kubectl_ok("get", "-n", ns, "pod", "web", "-o", "yaml")
    assert await cluster.kubectl_ok("replace", "-f", "-", stdin=current) == "pod/web replaced\n"


async def test_scale_deployment_through_the_scale_subresource(cluster: RestCluster) -> None:
    ns = await namespace(cluster)
    deployment = yaml.safe_dump(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web"},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "web", "image": "nginx"}]},
                },
            },
        }
    )
    assert (
        await cluster.kubectl_ok("apply", "-n", ns, "-f", "-", stdin=deployment)
        == "deployment.apps/web created\n"
    )
    assert (
        await cluster.kubectl_ok("scale", "-n", ns, "deployment", "web", "--replicas=3")
        == "deployment.apps/web scaled\n"
    )
    listed = (await cluster.kubectl_ok("get", "-n", ns, "deploy")).splitlines()
    assert columns(listed[0]) == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    assert columns(listed[1])[:2] == ["web", "0/3"]
    wide = (await cluster.kubectl_ok("get", "-n", ns, "deploy", "-o", "wide")).splitlines()
    assert columns(wide[0]) == [
        "NAME",
        "READY",
        "UP-TO-DATE",
        "AVAILABLE",
        "AGE",
        "CONTAINERS",
        "IMAGES",
        "SELECTOR",
    ]
    assert columns(wide[1])[5:] == ["web", "nginx", "app=web"]
    # A precondition on the current size that does not hold.
    refused = await cluster.kubectl(
        "scale", "-n", ns, "deployment", "web", "--current-replicas=2", "--replicas=5"
    )
    assert refused.code == 1 and "Expected replicas to be 2, was 3" in refused.err


async def test_configmaps_secrets_leases_and_events(cluster: RestCluster) -> None:
    ns = await namespace(cluster)
    assert (
        await cluster.kubectl_ok(
            "create", "-n", ns, "configmap", "settings", "--from-literal=mode=fast"
        )
        == "configmap/settings created\n"
    )
    assert (
        await cluster.kubectl_ok(
            "create", "-n", ns, "secret", "generic", "creds", "--from-literal=password=hunter2"
        )
        == "secret/creds created\n"
    )
    secret = json.loads(await cluster.kubectl_ok("get", "-n", ns, "secret", "creds", "-o", "json"))
    assert secret["data"] == {"password": "aHVudGVyMg=="} and secret["type"] == "Opaque"
    listed = (await cluster.kubectl_ok("get", "-n", ns, "configmaps,secrets")).split("\n\n")
    assert columns(listed[0].splitlines()[0]) == ["NAME", "DATA", "AGE"]
    assert columns(listed[0].splitlines()[1])[:2] == ["configmap/settings", "1"]
    assert columns(listed[1].splitlines()[0]) == ["NAME", "TYPE", "DATA", "AGE"]
    assert columns(listed[1].splitlines()[1])[:3] == ["secret/creds", "Opaque", "1"]
    assert (
        await cluster.kubectl_ok("delete", "-n", ns, "configmap", "settings")
        == f'configmap "settings" deleted from {ns} namespace\n'
    )
    assert (
        await cluster.kubectl_ok("delete", "-n", ns, "secret", "creds")
        == f'secret "creds" deleted from {ns} namespace\n'
    )

    lease = {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": "leader"},
        "spec": {"holderIdentity": "replica-1", "leaseDurationSeconds": 15},
    }
    await cluster.kubectl_ok("create", "-n", ns, "-f", "-", stdin=json.dumps(lease))
    leases = (await cluster.kubectl_ok("get", "leases", "-A")).splitlines()
    assert columns(leases[0]) == ["NAMESPACE", "NAME", "HOLDER", "AGE"]
    assert [ns, "leader", "replica-1"] in [columns(line)[:3] for line in leases[1:]]
    empty = await cluster.kubectl("get", "-n", ns, "events")
    assert (empty.code, empty.out, empty.err) == (0, "", f"No resources found in {ns} namespace.\n")
