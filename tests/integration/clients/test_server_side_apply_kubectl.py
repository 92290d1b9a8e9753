"""Server-side apply with the real kubectl against the real apiserver over real etcd:
`kubectl apply --server-side` creates and updates objects, a second manager changing a field
another owns gets Kubernetes' conflict as kubectl prints it, --force-conflicts takes it over,
`kubectl get --show-managed-fields` shows who owns what, an object created by client-side apply
moves to server-side apply as on Kubernetes, and `kubectl diff --server-side` shows what an
apply would change without making it."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
import yaml

from tests.integration.rest_cluster import RestCluster, rest_cluster
from tests.support import EtcdProcess


@pytest_asyncio.fixture(scope="module")
async def cluster(
    etcd: EtcdProcess, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RestCluster]:
    async with rest_cluster(etcd, tmp_path_factory.mktemp("ssa-kubectl")) as c:
        yield c


async def namespace(cluster: RestCluster) -> str:
    name = f"ssa-{uuid.uuid4().hex[:6]}"
    await cluster.kubectl_ok("create", "namespace", name)
    return name


def deployment(name: str, replicas: int = 2, image: str = "busybox:1.36") -> str:
    return yaml.safe_dump(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name, "labels": {"app": name}},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app": name}},
                "template": {
                    "metadata": {"labels": {"app": name}},
                    "spec": {"containers": [{"name": "web", "image": image}]},
                },
            },
        }
    )


async def get(cluster: RestCluster, ns: str, what: str) -> Any:
    """The object as JSON, its managed fields shown (kubectl hides them by default)."""
    return json.loads(
        await cluster.kubectl_ok("get", "-n", ns, what, "-o", "json", "--show-managed-fields")
    )


def managers(obj: Any) -> dict[tuple[str, str], Any]:
    return {(e["manager"], e["operation"]): e["fieldsV1"] for e in obj["metadata"]["managedFields"]}


async def test_apply_creates_and_updates_a_deployment(cluster: RestCluster) -> None:
    ns = await namespace(cluster)
    out = await cluster.kubectl_ok(
        "apply", "--server-side", "-n", ns, "-f", "-", stdin=deployment("web")
    )
    assert out == "deployment.apps/web serverside-applied\n"
    obj = await get(cluster, ns, "deployment/web")
    assert obj["spec"]["replicas"] == 2
    entry = obj["metadata"]["managedFields"][0]
    assert (entry["manager"], entry["operation"], entry["apiVersion"]) == (
        "kubectl",
        "Apply",
        "apps/v1",
    )
    assert entry["fieldsType"] == "FieldsV1"
    assert entry["fieldsV1"] == {
        "f:metadata": {"f:labels": {"f:app": {}}},
        "f:spec": {
            "f:replicas": {},
            "f:selector": {},
            "f:template": {
                "f:metadata": {"f:labels": {"f:app": {}}},
                "f:spec": {
                    "f:containers": {'k:{"name":"web"}': {".": {}, "f:image": {}, "f:name": {}}}
                },
            },
        },
    }
    # Applied again with a new image: an update, the same single manager.
    out = await cluster.kubectl_ok(
        "apply",
        "--server-side",
        "-n",
        ns,
        "-f",
        "-",
        stdin=deployment("web", image="busybox:1.37"),
    )
    assert out == "deployment.apps/web serverside-applied\n"
    obj = await get(cluster, ns, "deployment/web")
    assert obj["spec"]["template"]["spec"]["containers"][0]["image"] == "busybox:1.37"
    assert [e["manager"] for e in obj["metadata"]["managedFields"]] == ["kubectl"]


async def test_a_second_manager_conflicts_until_it_forces(cluster: RestCluster) -> None:
    ns = await namespace(cluster)
    await cluster.kubectl_ok("apply", "--server-side", "-n", ns, "-f", "-", stdin=deployment("web"))
    ran = await cluster.kubectl(
        "apply",
        "--server-side",
        "--field-manager=other",
        "-n",
        ns,
        "-f",
        "-",
        stdin=deployment("web", replicas=5),
    )
    assert ran.code == 1
    assert ran.err.startswith(
        'error: Apply failed with 1 conflict: conflict with "kubectl": .spec.replicas\n'
        "Please review the fields above--they currently have other managers."
    ), ran.err
    assert (await get(cluster, ns, "deployment/web"))["spec"]["replicas"] == 2
    await cluster.kubectl_ok(
        "apply",
        "--server-side",
        "--field-manager=other",
        "--force-conflicts",
        "-n",
        ns,
        "-f",
        "-",
        stdin=deployment("web", replicas=5),
    )
    obj = await get(cluster, ns, "deployment/web")
    assert obj["spec"]["replicas"] == 5
    owners = managers(obj)
    assert set(owners) == {("kubectl", "Apply"), ("other", "Apply")}
    # The other manager took replicas; the rest, applied with the same values, both own.
    assert "f:replicas" not in owners["kubectl", "Apply"]["f:spec"]
    assert "f:replicas" in owners["other", "Apply"]["f:spec"]
    shown = yaml.safe_load(
        await cluster.kubectl_ok(
            "get", "-n", ns, "deployment/web", "-o", "yaml", "--show-managed-fields"
        )
    )
    assert [e["manager"] for e in shown["metadata"]["managedFields"]] == ["kubectl", "other"]
    hidden = yaml.safe_load(
        await cluster.kubectl_ok("get", "-n", ns, "deployment/web", "-o", "yaml")
    )
    assert "managedFields" not in hidden["metadata"]


async def test_a_client_side_applied_object_moves_to_server_side_apply(
    cluster: RestCluster,
) -> None:
    ns = await namespace(cluster)
    await cluster.kubectl_ok("apply", "-n", ns, "-f", "-", stdin=deployment("web"))
    obj = await get(cluster, ns, "deployment/web")
    assert [(e["manager"], e["operation"]) for e in obj["metadata"]["managedFields"]] == [
        ("kubectl-client-side-apply", "Update")
    ]
    # The same manifest with another replica count: no conflict with kubectl's own client-side
    # apply, and the managed fields move to the "kubectl" applier.
    out = await cluster.kubectl_ok(
        "apply", "--server-side", "-n", ns, "-f", "-", stdin=deployment("web", replicas=3)
    )
    assert out == "deployment.apps/web serverside-applied\n"
    obj = await get(cluster, ns, "deployment/web")
    assert obj["spec"]["replicas"] == 3
    owners = managers(obj)
    assert ("kubectl", "Apply") in owners
    assert "f:replicas" in owners["kubectl", "Apply"]["f:spec"]
    assert ("kubectl-client-side-apply", "Update") not in owners
    # The annotation client-side apply reads is kept up to date by the server.
    last = json.loads(
        obj["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
    )
    assert last["spec"]["replicas"] == 3
    # A field dropped from the manifest is removed, as it is no one else's.
    manifest = yaml.safe_load(deployment("web", replicas=3))
    del manifest["metadata"]["labels"]
    await cluster.kubectl_ok(
        "apply", "--server-side", "-n", ns, "-f", "-", stdin=yaml.safe_dump(manifest)
    )
    assert "labels" not in (await get(cluster, ns, "deployment/web"))["metadata"]


async def test_diff_server_side_shows_the_change_without_making_it(cluster: RestCluster) -> None:
    ns = await namespace(cluster)
    await cluster.kubectl_ok("apply", "--server-side", "-n", ns, "-f", "-", stdin=deployment("web"))
    ran = await cluster.kubectl(
        "diff", "--server-side", "-n", ns, "-f", "-", stdin=deployment("web", replicas=4)
    )
    assert ran.code == 1, ran.err  # 1: there are differences
    assert "-  replicas: 2" in ran.out and "+  replicas: 4" in ran.out
    assert (await get(cluster, ns, "deployment/web"))["spec"]["replicas"] == 2
    ran = await cluster.kubectl(
        "diff", "--server-side", "-n", ns, "-f", "-", stdin=deployment("web")
    )
    assert (ran.code, ran.out) == (0, "")


@pytest.mark.parametrize(
    "manifest",
    [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "1"}},
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "s"},
            "spec": {"selector": {"app": "s"}, "ports": [{"port": 80}]},
        },
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "p"},
            "spec": {
                "containers": [{"name": "c", "image": "busybox", "ports": [{"containerPort": 80}]}]
            },
        },
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": "j"},
            "spec": {
                "template": {
                    "spec": {
                        "restartPolicy": "Never",
                        "containers": [{"name": "c", "image": "busybox"}],
                    }
                }
            },
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": {"name": "r"},
            "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}],
        },
    ],
    ids=lambda m: m["kind"],
)
async def test_apply_serves_every_kind(cluster: RestCluster, manifest: dict[str, Any]) -> None:
    ns = await namespace(cluster)
    text = yaml.safe_dump(manifest)
    await cluster.kubectl_ok("apply", "--server-side", "-n", ns, "-f", "-", stdin=text)
    plural = manifest["kind"].lower()
    obj = await get(cluster, ns, f"{plural}/{manifest['metadata']['name']}")
    assert [(e["manager"], e["operation"]) for e in obj["metadata"]["managedFields"]] == [
        ("kubectl", "Apply")
    ]
    # A second apply of the same manifest changes nothing.
    version = obj["metadata"]["resourceVersion"]
    await cluster.kubectl_ok("apply", "--server-side", "-n", ns, "-f", "-", stdin=text)
    again = await get(cluster, ns, f"{plural}/{manifest['metadata']['name']}")
    assert again["metadata"]["resourceVersion"] == version


async def test_kubectls_other_writes_are_recorded_as_its_managers(
    cluster: RestCluster, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    """Each kubectl command writes as its own manager (kubectl-create, kubectl-label,
    kubectl-edit, kubectl-patch), an Update entry owning what it changed; kubectl scale names
    none, so its user agent's first word, kubectl, is its manager."""
    ns = await namespace(cluster)
    await cluster.kubectl_ok("create", "-n", ns, "deployment", "web", "--image=busybox:1.36")
    await cluster.kubectl_ok("label", "-n", ns, "deployment/web", "tier=front")
    editor = tmp_path / "editor.sh"
    editor.write_text("#!/bin/sh\nsed -i 's/tier: front/tier: back/' \"$1\"\n")
    editor.chmod(0o755)
    monkeypatch.setenv("KUBE_EDITOR", str(editor))
    await cluster.kubectl_ok("edit", "-n", ns, "deployment/web")
    await cluster.kubectl_ok(
        "patch", "-n", ns, "deployment/web", "-p", '{"metadata":{"annotations":{"a":"b"}}}'
    )
    await cluster.kubectl_ok("scale", "-n", ns, "deployment/web", "--replicas=3")
    obj = await get(cluster, ns, "deployment/web")
    assert obj["metadata"]["labels"]["tier"] == "back"
    entries = {
        (e["manager"], e.get("subresource", "")): e for e in obj["metadata"]["managedFields"]
    }
    assert set(entries) == {
        ("kubectl-create", ""),
        ("kubectl-edit", ""),
        ("kubectl-patch", ""),
        ("kubectl", "scale"),
    }
    assert all(e["operation"] == "Update" for e in entries.values())
    # kubectl-label's only field was taken over by the edit, which changed it.
    assert entries["kubectl-edit", ""]["fieldsV1"] == {"f:metadata": {"f:labels": {"f:tier": {}}}}
    assert "f:a" in entries["kubectl-patch", ""]["fieldsV1"]["f:metadata"]["f:annotations"]
    assert entries["kubectl", "scale"]["fieldsV1"] == {"f:spec": {"f:replicas": {}}}
    assert "f:replicas" not in entries["kubectl-create", ""]["fieldsV1"]["f:spec"]
