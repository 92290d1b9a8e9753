"""A pod using the Kubernetes 1.31 fields podplane now validates, through both doors of the real
apiserver over real etcd: kubectl's strict server-side dry run and a real create accept it, kubectl
-o json, the official Python client and the gRPC client read back what was sent, and invalid
variants are refused with a 422 (INVALID_ARGUMENT at the gRPC door) naming the field, but those
the mutating admission plugins resolve first (a priority policy, a runtime class), which they
refuse with a 403 as Kubernetes' do."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
import pytest_asyncio
import yaml
from kubernetes import client as k8s

from podplane.api.core.v1 import core_pb2
from podplane.api.node.v1 import node_pb2
from podplane.api.scheduling.v1 import scheduling_pb2
from podplane.apimachinery import manifest
from tests.integration.rest_cluster import RestCluster, in_thread, raw_request, rest_cluster
from tests.support import EtcdProcess

POD_SPEC: dict[str, Any] = {
    "os": {"name": "linux"},
    "runtimeClassName": "gvisor",
    # The class's policy: the Priority admission plugin refuses a pod's own that differs from it.
    "priorityClassName": "batch-never",
    "preemptionPolicy": "Never",
    "setHostnameAsFQDN": False,
    "hostAliases": [{"ip": "10.1.2.3", "hostnames": ["db.internal", "db"]}],
    "readinessGates": [{"conditionType": "example.com/load-balancer-ready"}],
    "schedulingGates": [{"name": "example.com/quota"}],
    "securityContext": {
        "seccompProfile": {"type": "RuntimeDefault"},
        "sysctls": [{"name": "net.ipv4.ip_local_port_range", "value": "32768 60999"}],
        "fsGroupChangePolicy": "OnRootMismatch",
    },
    "containers": [
        {
            "name": "app",
            "image": "busybox:1.36",
            "command": ["sleep", "3600"],
            "readinessProbe": {"grpc": {"port": 9090}},
            "volumeMounts": [
                {"name": "info", "mountPath": "/etc/info", "readOnly": True},
                {"name": "bundle", "mountPath": "/etc/bundle", "readOnly": True},
                {"name": "scratch", "mountPath": "/scratch"},
                {"name": "secrets", "mountPath": "/secrets", "readOnly": True},
                {
                    "name": "share",
                    "mountPath": "/share",
                    "readOnly": True,
                    "recursiveReadOnly": "IfPossible",
                },
                {"name": "ebs", "mountPath": "/data", "subPathExpr": "$(POD_NAME)"},
            ],
            "env": [
                {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}
            ],
        }
    ],
    "volumes": [
        {
            "name": "info",
            "downwardAPI": {
                "items": [{"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}]
            },
        },
        {
            "name": "bundle",
            "projected": {
                "sources": [
                    {"configMap": {"name": "settings"}},
                    {
                        "downwardAPI": {
                            "items": [{"path": "name", "fieldRef": {"fieldPath": "metadata.name"}}]
                        }
                    },
                ]
            },
        },
        {
            "name": "scratch",
            "ephemeral": {
                "volumeClaimTemplate": {
                    "metadata": {"labels": {"type": "scratch"}},
                    "spec": {
                        "accessModes": ["ReadWriteOnce"],
                        "storageClassName": "standard",
                        "resources": {"requests": {"storage": "1Gi"}},
                    },
                }
            },
        },
        {
            "name": "secrets",
            "csi": {
                "driver": "secrets-store.csi.k8s.io",
                "readOnly": True,
                "volumeAttributes": {"secretProviderClass": "vault"},
            },
        },
        {"name": "share", "nfs": {"server": "nfs.example.com", "path": "/exports/share"}},
        {"name": "ebs", "awsElasticBlockStore": {"volumeID": "vol-0abc", "fsType": "ext4"}},
    ],
}


def pod_manifest(name: str, spec: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": "fields"}},
        "spec": copy.deepcopy(spec if spec is not None else POD_SPEC),
    }


def assert_contains(actual: Any, sent: Any, path: str = "spec") -> None:
    """Everything sent is read back as sent (the server adds its defaults beside it)."""
    if isinstance(sent, dict):
        assert isinstance(actual, dict), f"{path}: {actual!r}"
        for key, value in sent.items():
            assert key in actual, f"{path}.{key} missing from {sorted(actual)}"
            assert_contains(actual[key], value, f"{path}.{key}")
    elif isinstance(sent, list):
        assert isinstance(actual, list) and len(actual) == len(sent), f"{path}: {actual!r}"
        for i, (a, s) in enumerate(zip(actual, sent, strict=True)):
            assert_contains(a, s, f"{path}[{i}]")
    else:
        assert actual == sent, f"{path}: {actual!r} != {sent!r}"


@pytest_asyncio.fixture(scope="module")
async def cluster(
    etcd: EtcdProcess, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RestCluster]:
    async with rest_cluster(etcd, tmp_path_factory.mktemp("pod-fields")) as c:
        runtime_class = node_pb2.RuntimeClass(handler="runsc")
        runtime_class.metadata.name = "gvisor"
        await c.grpc.runtimeclasses.create(runtime_class)
        batch_never = scheduling_pb2.PriorityClass(value=100, preemption_policy="Never")
        batch_never.metadata.name = "batch-never"
        await c.grpc.priorityclasses.create(batch_never)
        yield c


async def namespace(cluster: RestCluster) -> str:
    name = f"pf-{uuid.uuid4().hex[:6]}"
    await cluster.kubectl_ok("create", "namespace", name)
    return name


async def test_strict_dry_run_then_create_then_read_back_by_every_client(
    cluster: RestCluster,
) -> None:
    ns = await namespace(cluster)
    sent = pod_manifest("fields")
    text = yaml.safe_dump(sent)
    dry = await cluster.kubectl_ok(
        "apply", "--validate=strict", "--dry-run=server", "-n", ns, "-f", "-", stdin=text
    )
    assert dry == "pod/fields created (server dry run)\n"
    assert (await cluster.kubectl("get", "pod", "fields", "-n", ns)).code == 1
    assert await cluster.kubectl_ok(
        "apply", "--validate=strict", "-n", ns, "-f", "-", stdin=text
    ) == ("pod/fields created\n")
    got = json.loads(await cluster.kubectl_ok("get", "pod", "fields", "-n", ns, "-o", "json"))
    assert_contains(got["spec"], sent["spec"])
    # Defaults: the gRPC probe's service, the claim template's volume mode.
    assert got["spec"]["containers"][0]["readinessProbe"]["grpc"]["service"] == ""
    template = got["spec"]["volumes"][2]["ephemeral"]["volumeClaimTemplate"]
    assert template["spec"]["volumeMode"] == "Filesystem"
    # The scheduling gate keeps it from being scheduled: kubectl shows SchedulingGated.
    assert got["status"]["conditions"][0]["reason"] == "SchedulingGated"
    table = (await cluster.kubectl_ok("get", "pod", "fields", "-n", ns)).splitlines()
    assert table[1].split()[2] == "SchedulingGated"

    api = cluster.api_client()
    read = await in_thread(k8s.CoreV1Api(api).read_namespaced_pod, "fields", ns)
    assert read.spec.security_context.seccomp_profile.type == "RuntimeDefault"
    assert read.spec.host_aliases[0].hostnames == ["db.internal", "db"]
    assert read.spec.volumes[5].aws_elastic_block_store.volume_id == "vol-0abc"
    sanitize: Any = api.sanitize_for_serialization  # the package is untyped
    assert_contains(sanitize(read)["spec"], sent["spec"])

    over_grpc = manifest.to_dict(await cluster.grpc.pods.get("fields", ns))
    assert_contains(over_grpc["spec"], sent["spec"])


async def test_the_grpc_door_accepts_the_same_pod(cluster: RestCluster) -> None:
    ns = await namespace(cluster)
    pod = manifest.from_dict(pod_manifest("over-grpc"))
    assert isinstance(pod, core_pb2.Pod)
    pod.metadata.namespace = ns
    await cluster.grpc.pods.create(pod)
    got = json.loads(await cluster.kubectl_ok("get", "pod", "over-grpc", "-n", ns, "-o", "json"))
    assert_contains(got["spec"], POD_SPEC)


def variant(path: list[Any], value: Any) -> dict[str, Any]:
    spec = copy.deepcopy(POD_SPEC)
    target: Any = spec
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return spec


INVALID = [
    (
        variant(["securityContext", "seccompProfile"], {"type": "Localhost"}),
        "spec.securityContext.seccompProfile.localhostProfile: Required value: must be set when "
        "seccomp type is Localhost",
    ),
    (
        variant(["securityContext", "sysctls"], [{"name": "net..bad", "value": "1"}]),
        'spec.securityContext.sysctls[0].name: Invalid value: "net..bad": must have at most 253 '
        "characters and match regex",
    ),
    (
        variant(["hostAliases"], [{"ip": "not-an-ip", "hostnames": ["x"]}]),
        'spec.hostAliases[0].ip: Invalid value: "not-an-ip": must be a valid IP address',
    ),
    (
        variant(["readinessGates"], [{"conditionType": "-bad"}]),
        'spec.readinessGates[0].conditionType: Invalid value: "-bad"',
    ),
    (
        variant(["schedulingGates"], [{"name": "a"}, {"name": "a"}]),
        'spec.schedulingGates[1]: Duplicate value: "a"',
    ),
    (
        variant(["os"], {"name": "plan9"}),
        'spec.os: Unsupported value: "plan9": supported values: "linux", "windows"',
    ),
    (
        variant(["volumes", 4, "nfs"], {"server": "", "path": "/x"}),
        "spec.volumes[4].nfs.server: Required value",
    ),
    (
        variant(["volumes", 5, "awsElasticBlockStore"], {"volumeID": ""}),
        "spec.volumes[5].awsElasticBlockStore.volumeID: Required value",
    ),
    (
        variant(["volumes", 3, "csi"], {"driver": "Bad_Driver"}),
        'spec.volumes[3].csi.driver: Invalid value: "Bad_Driver"',
    ),
    (
        variant(["volumes", 2, "ephemeral"], {}),
        "spec.volumes[2].ephemeral.volumeClaimTemplate: Required value",
    ),
    (
        # nfs comes first in Kubernetes' order, so the downwardAPI is the extra one (named with
        # Kubernetes' typo).
        variant(["volumes", 0, "nfs"], {"server": "nfs", "path": "/x"}),
        "spec.volumes[0].downwarAPI: Forbidden: may not specify more than 1 volume type",
    ),
]


@pytest.mark.parametrize(("spec", "expected"), INVALID)
async def test_invalid_variants_are_refused_naming_the_field(
    cluster: RestCluster, spec: dict[str, Any], expected: str
) -> None:
    ns = "default"
    body = pod_manifest(f"bad-{uuid.uuid4().hex[:6]}", spec)
    api = cluster.api_client()
    code, status = await in_thread(raw_request, api, "POST", f"/api/v1/namespaces/{ns}/pods", body)
    assert code == 422, status
    assert status["reason"] == "Invalid"
    assert expected in status["message"], status["message"]
    assert any(expected.startswith(c["field"] + ": ") for c in status["details"]["causes"])
    pod = manifest.from_dict(body)
    assert isinstance(pod, core_pb2.Pod)
    pod.metadata.namespace = ns
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await cluster.grpc.pods.create(pod)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert expected in (refused.value.details() or "")


# Fields the Priority and RuntimeClass admission plugins resolve are refused by them, 403, before
# validation sees them: both plugins are mutating (their Admit, in kubernetes
# plugin/pkg/admission/priority/admission.go admitPod and runtimeclass/admission.go
# prepareObjects), and Kubernetes' create handler (k8s.io/apiserver/pkg/endpoints/handlers/
# create.go) runs mutating admission before the store's BeforeCreate validates.
REFUSED_BY_ADMISSION = [
    (
        variant(["preemptionPolicy"], "Sometimes"),
        "the string value of PreemptionPolicy (Sometimes) must not be provided in pod spec; "
        "priority admission controller computed Never from the given PriorityClass name",
    ),
    (
        variant(["runtimeClassName"], "Not_A_Name"),
        'pod rejected: RuntimeClass "Not_A_Name" not found',
    ),
]


@pytest.mark.parametrize(("spec", "reason"), REFUSED_BY_ADMISSION)
async def test_what_mutating_admission_resolves_is_refused_before_validation(
    cluster: RestCluster, spec: dict[str, Any], reason: str
) -> None:
    ns = "default"
    name = f"bad-{uuid.uuid4().hex[:6]}"
    body = pod_manifest(name, spec)
    api = cluster.api_client()
    code, status = await in_thread(raw_request, api, "POST", f"/api/v1/namespaces/{ns}/pods", body)
    assert code == 403, status
    assert status["reason"] == "Forbidden"
    assert status["message"] == f'pods "{name}" is forbidden: {reason}'
    pod = manifest.from_dict(body)
    assert isinstance(pod, core_pb2.Pod)
    pod.metadata.namespace = ns
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await cluster.grpc.pods.create(pod)
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert refused.value.details() == f'pods "{name}" is forbidden: {reason}'


async def test_a_scheduling_gate_is_removed_never_added(cluster: RestCluster) -> None:
    ns = await namespace(cluster)
    text = yaml.safe_dump(pod_manifest("gated"))
    await cluster.kubectl_ok("apply", "-n", ns, "-f", "-", stdin=text)
    added = await cluster.kubectl(
        "patch", "pod", "gated", "-n", ns, "--type=json",
        "-p", '[{"op": "add", "path": "/spec/schedulingGates/-", "value": {"name": "more"}}]',
    )  # fmt: skip
    assert added.code == 1
    assert (
        "spec.schedulingGates[1].name: Forbidden: only deletion is allowed, but found new "
        "scheduling gate 'more'"
    ) in added.err
    removed = await cluster.kubectl_ok(
        "patch", "pod", "gated", "-n", ns, "--type=json",
        "-p", '[{"op": "remove", "path": "/spec/schedulingGates"}]',
    )  # fmt: skip
    assert removed == "pod/gated patched\n"
