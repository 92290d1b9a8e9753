"""ValidatingAdmissionPolicy enforced on the real apiserver over real etcd, driven by kubectl and
the official Python client as Kubernetes' docs drive it
(https://kubernetes.io/docs/reference/access-authn-authz/validating-admission-policy/): the
docs' first example (a Deployment of more than 5 replicas in a namespace labelled
environment=test is refused with the docs' text), params from a ConfigMap, Warn and Audit,
messageExpression and variables, failurePolicy Ignore with a missing param, and the same refusal
at the gRPC door."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
import pytest_asyncio
from kubernetes import client as k8s

from podplane.api.apps.v1 import apps_pb2
from podplane.apimachinery import manifest, resources
from tests.integration.custom_resources import crontab_crd, install, unique_group
from tests.integration.rest_cluster import RestCluster, in_thread, rest_cluster
from tests.support import EtcdProcess, eventually

GROUP = "admissionregistration.k8s.io/v1"
DEPLOYMENTS = {
    "apiGroups": ["apps"],
    "apiVersions": ["v1"],
    "operations": ["CREATE", "UPDATE"],
    "resources": ["deployments"],
}


@pytest_asyncio.fixture(scope="module")
async def cluster(
    etcd: EtcdProcess, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RestCluster]:
    async with rest_cluster(etcd, tmp_path_factory.mktemp("admission-policy")) as c:
        yield c


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def deployment(name: str, replicas: int, labels: dict[str, str] | None = None) -> dict[str, Any]:
    match = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": labels or {}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": match},
            "template": {
                "metadata": {"labels": match},
                "spec": {"containers": [{"name": "nginx", "image": "nginx"}]},
            },
        },
    }


async def apply(cluster: RestCluster, *objects: dict[str, Any]) -> None:
    items = {"apiVersion": "v1", "kind": "List", "items": list(objects)}
    await cluster.kubectl_ok("create", "-f", "-", stdin=json.dumps(items))


async def namespace(cluster: RestCluster, labels: dict[str, str]) -> str:
    name = unique("vap")
    labels = {**labels, "vap-test": name}
    await apply(
        cluster,
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}},
    )
    return name


async def refused_until_enforced(
    cluster: RestCluster, ns: str, obj: dict[str, Any], *args: str
) -> str:
    """kubectl create's stderr once the policy (read from the watch cache) refuses it."""

    async def refused() -> str | None:
        ran = await cluster.kubectl("create", "-n", ns, *args, "-f", "-", stdin=json.dumps(obj))
        if ran.code == 0:
            await cluster.kubectl_ok(
                "delete", "-n", ns, obj["kind"].lower(), obj["metadata"]["name"]
            )
            return None
        return ran.err

    return await eventually(refused, what="the policy to refuse")


def policy(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": GROUP,
        "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": name},
        "spec": spec,
    }


def binding(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": GROUP,
        "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": name},
        "spec": spec,
    }


def env_selector(ns: str) -> dict[str, Any]:
    return {"namespaceSelector": {"matchLabels": {"vap-test": ns}}}


async def test_the_docs_first_example_denies_more_than_5_replicas_in_test(
    cluster: RestCluster,
) -> None:
    await apply(
        cluster,
        policy(
            "demo-policy.example.com",
            {
                "failurePolicy": "Fail",
                "matchConstraints": {"resourceRules": [DEPLOYMENTS]},
                "validations": [{"expression": "object.spec.replicas <= 5"}],
            },
        ),
        binding(
            "demo-binding-test.example.com",
            {
                "policyName": "demo-policy.example.com",
                "validationActions": ["Deny"],
                "matchResources": {"namespaceSelector": {"matchLabels": {"environment": "test"}}},
            },
        ),
    )
    test = await namespace(cluster, {"environment": "test"})
    other = await namespace(cluster, {"environment": "prod"})
    err = await refused_until_enforced(cluster, test, deployment("nginx", 6))
    assert err.strip() == (
        'The deployments "nginx" is invalid: : ValidatingAdmissionPolicy '
        "'demo-policy.example.com' with binding 'demo-binding-test.example.com' denied request: "
        "failed expression: object.spec.replicas <= 5"
    )
    # The official client sees Kubernetes' Status: 422 Invalid with the message as a cause.
    apps = k8s.AppsV1Api(cluster.api_client())
    with pytest.raises(k8s.ApiException) as refused:
        await in_thread(apps.create_namespaced_deployment, test, deployment("nginx", 6))
    status = json.loads(str(refused.value.body))
    message = (
        "ValidatingAdmissionPolicy 'demo-policy.example.com' with binding "
        "'demo-binding-test.example.com' denied request: failed expression: "
        "object.spec.replicas <= 5"
    )
    assert (refused.value.status, status["reason"]) == (422, "Invalid")
    assert status["message"] == f'deployments.apps "nginx" is forbidden: {message}'
    assert status["details"] == {
        "name": "nginx",
        "group": "apps",
        "kind": "deployments",
        "causes": [{"message": message}],
    }
    # 5 replicas pass, and so do 6 where the binding does not match the namespace.
    await cluster.kubectl_ok(
        "create", "-n", test, "-f", "-", stdin=json.dumps(deployment("five", 5))
    )
    await cluster.kubectl_ok(
        "create", "-n", other, "-f", "-", stdin=json.dumps(deployment("six", 6))
    )
    # An update to 6 replicas is refused as well (the scale subresource is not deployments').
    ran = await cluster.kubectl(
        "patch", "-n", test, "deployment/five", "-p", '{"spec": {"replicas": 6}}'
    )
    assert ran.code == 1 and ran.err.strip().endswith(
        "failed expression: object.spec.replicas <= 5"
    )
    # The gRPC door refuses the same create with the same text.
    made = manifest.from_dict(deployment("nginx", 6))
    assert isinstance(made, apps_pb2.Deployment)
    made.metadata.namespace = test
    with pytest.raises(grpc.aio.AioRpcError) as grpc_refused:
        await cluster.grpc.deployments.create(made)
    assert grpc_refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert grpc_refused.value.details() == f'deployments.apps "nginx" is forbidden: {message}'


async def test_params_from_a_configmap_with_message_expression_and_variables(
    cluster: RestCluster,
) -> None:
    ns = await namespace(cluster, {})
    name = unique("replica-limit")
    await apply(
        cluster,
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "limits", "namespace": ns},
            "data": {"maxReplicas": "3"},
        },
        policy(
            name,
            {
                "paramKind": {"apiVersion": "v1", "kind": "ConfigMap"},
                "matchConstraints": {"resourceRules": [DEPLOYMENTS]},
                "variables": [
                    {"name": "limit", "expression": "int(params.data.maxReplicas)"},
                    {"name": "replicas", "expression": "object.spec.replicas"},
                ],
                "validations": [
                    {
                        "expression": "variables.replicas <= variables.limit",
                        "messageExpression": (
                            "'replicas ' + string(variables.replicas)"
                            " + ' over the limit ' + string(variables.limit)"
                        ),
                        "reason": "Forbidden",
                    }
                ],
            },
        ),
        binding(
            name,
            {
                "policyName": name,
                "validationActions": ["Deny"],
                "paramRef": {"name": "limits", "parameterNotFoundAction": "Deny"},
                "matchResources": env_selector(ns),
            },
        ),
    )
    err = await refused_until_enforced(cluster, ns, deployment("big", 4))
    assert err.strip() == (
        f'Error from server (Forbidden): error when creating "STDIN": deployments.apps "big" is '
        f"forbidden: ValidatingAdmissionPolicy '{name}' with binding '{name}' denied request: "
        "replicas 4 over the limit 3"
    )
    await cluster.kubectl_ok(
        "create", "-n", ns, "-f", "-", stdin=json.dumps(deployment("small", 3))
    )
    # Without its param (Deny), the binding cannot be configured: the policy fails closed.
    await cluster.kubectl_ok("delete", "-n", ns, "configmap", "limits")

    async def unconfigured() -> str | None:
        ran = await cluster.kubectl(
            "create", "-n", ns, "-f", "-", stdin=json.dumps(deployment("one", 1))
        )
        return ran.err if ran.code != 0 else None

    err = await eventually(unconfigured, what="the missing param to deny")
    assert (
        f"ValidatingAdmissionPolicy '{name}' with binding '{name}' denied request: failed to "
        "configure binding: no params found for policy binding with `Deny` "
        "parameterNotFoundAction"
    ) in err


async def test_failure_policy_ignore_admits_without_its_param(cluster: RestCluster) -> None:
    ns = await namespace(cluster, {})
    name = unique("ignored")
    await apply(
        cluster,
        policy(
            name,
            {
                "failurePolicy": "Ignore",
                "paramKind": {"apiVersion": "v1", "kind": "ConfigMap"},
                "matchConstraints": {"resourceRules": [DEPLOYMENTS]},
                "validations": [{"expression": "object.spec.replicas <= int(params.data.max)"}],
            },
        ),
        binding(
            name,
            {
                "policyName": name,
                "validationActions": ["Deny"],
                "paramRef": {"name": "absent", "parameterNotFoundAction": "Deny"},
                "matchResources": env_selector(ns),
            },
        ),
    )
    # A second policy that always denies shows when both are enforced.
    marker = unique("marker")
    await apply(
        cluster,
        policy(
            marker,
            {
                "matchConstraints": {"resourceRules": [DEPLOYMENTS]},
                "validations": [{"expression": "object.metadata.name != 'probe'"}],
            },
        ),
        binding(
            marker,
            {
                "policyName": marker,
                "validationActions": ["Deny"],
                "matchResources": env_selector(ns),
            },
        ),
    )
    await refused_until_enforced(cluster, ns, deployment("probe", 1))
    await cluster.kubectl_ok("create", "-n", ns, "-f", "-", stdin=json.dumps(deployment("many", 9)))


async def test_warn_and_audit_actions_admit_with_a_warning(
    cluster: RestCluster, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="apiserver.audit")
    ns = await namespace(cluster, {})
    name = unique("warned")
    await apply(
        cluster,
        policy(
            name,
            {
                "matchConstraints": {"resourceRules": [DEPLOYMENTS]},
                "validations": [
                    {"expression": "object.spec.replicas <= 2", "message": "at most 2 replicas"}
                ],
                "auditAnnotations": [
                    {"key": "replicas", "valueExpression": "string(object.spec.replicas)"}
                ],
            },
        ),
        binding(
            name,
            {
                "policyName": name,
                "validationActions": ["Warn", "Audit"],
                "matchResources": env_selector(ns),
            },
        ),
    )
    warning = (
        f"Warning: Validation failed for ValidatingAdmissionPolicy '{name}' with binding "
        f"'{name}': at most 2 replicas"
    )

    async def warned() -> str | None:
        obj = deployment(unique("w"), 3)
        ran = await cluster.kubectl("create", "-n", ns, "-f", "-", stdin=json.dumps(obj))
        assert ran.code == 0, ran.err
        return ran.err if warning in ran.err else None

    err = await eventually(warned, what="the warning")
    assert err.strip() == warning
    ran = await cluster.kubectl(
        "create", "-n", ns, "-f", "-", stdin=json.dumps(deployment("ok", 2))
    )
    assert (ran.code, ran.err) == (0, "")
    # podplane has no audit log: the request's audit annotations are logged as it is answered.
    failure = {
        "message": "at most 2 replicas",
        "policy": name,
        "binding": name,
        "expressionIndex": 0,
        "validationActions": ["Warn", "Audit"],
    }
    annotations = {
        "validation.policy.admission.k8s.io/validation_failure": json.dumps(
            [failure], separators=(",", ":")
        ),
        f"{name}/replicas": "3",
    }
    logged = [r.getMessage() for r in caplog.records if r.name == "apiserver.audit"]
    assert any(m.endswith(f" annotations {annotations}") for m in logged), logged
    assert any(m.endswith(f" annotations {{'{name}/replicas': '2'}}") for m in logged), logged
    # The gRPC door records them alike.
    made = manifest.from_dict(deployment("by-grpc", 4))
    assert isinstance(made, apps_pb2.Deployment)
    made.metadata.namespace = ns
    await cluster.grpc.deployments.create(made)
    annotations[f"{name}/replicas"] = "4"
    logged = [r.getMessage() for r in caplog.records if r.name == "apiserver.audit"]
    assert f"/{resources.DEPLOYMENT.service}/Create annotations {annotations}" in logged, logged


async def test_the_status_controller_warns_of_a_field_the_kind_does_not_have(
    cluster: RestCluster,
) -> None:
    name = unique("typo")
    spec = {
        "matchConstraints": {"resourceRules": [DEPLOYMENTS]},
        "validations": [
            {"expression": "object.spec.replica <= 5"},
            {"expression": "object.spec.replicas <= 5", "messageExpression": "'ok'"},
        ],
    }
    await apply(cluster, policy(name, spec))
    v1 = k8s.AdmissionregistrationV1Api(cluster.api_client())

    async def checked() -> Any:
        read = await in_thread(v1.read_validating_admission_policy, name)
        return read if read.status and read.status.observed_generation == 1 else None

    read = await eventually(checked, what="the type checking")
    warnings = read.status.type_checking.expression_warnings
    assert [(w.field_ref, w.warning) for w in warnings] == [
        (
            "spec.validations[0].expression",
            "apps/v1, Kind=Deployment: compilation failed: ERROR: <input>:1:12: undefined field "
            "'replica'\n | object.spec.replica <= 5\n | ...........^\n",
        )
    ]
    # A change of the spec moves the generation; the status follows it.
    read.spec.validations = read.spec.validations[1:]
    await in_thread(v1.replace_validating_admission_policy, name, read)

    async def rechecked() -> Any:
        again = await in_thread(v1.read_validating_admission_policy, name)
        return again if again.status.observed_generation == 2 else None

    again = await eventually(rechecked, what="the type checking of generation 2")
    assert not again.status.type_checking.expression_warnings


async def test_a_custom_resource_is_checked_and_type_checked_by_its_schema(
    cluster: RestCluster,
) -> None:
    group = unique_group("vap")
    await install(cluster.grpc, crontab_crd(group))
    ns = await namespace(cluster, {})
    name = unique("crontabs")
    rule = {
        "apiGroups": [group],
        "apiVersions": ["v1"],
        "operations": ["CREATE"],
        "resources": ["crontabs"],
    }
    await apply(
        cluster,
        policy(
            name,
            {
                "matchConstraints": {"resourceRules": [rule]},
                "validations": [
                    {"expression": "object.spec.cronSpec != '* * * * *'", "message": "too often"},
                    {"expression": "object.spec.cronspec != ''"},
                ],
            },
        ),
        binding(
            name,
            {"policyName": name, "validationActions": ["Deny"], "matchResources": env_selector(ns)},
        ),
    )
    v1 = k8s.AdmissionregistrationV1Api(cluster.api_client())

    async def checked() -> Any:
        read = await in_thread(v1.read_validating_admission_policy, name)
        return read if read.status and read.status.observed_generation == 1 else None

    read = await eventually(checked, what="the type checking")
    assert [(w.field_ref, w.warning) for w in read.status.type_checking.expression_warnings] == [
        (
            "spec.validations[1].expression",
            f"{group}/v1, Kind=CronTab: compilation failed: ERROR: <input>:1:12: undefined field "
            "'cronspec'\n | object.spec.cronspec != ''\n | ...........^\n",
        )
    ]
    crontab = {
        "apiVersion": f"{group}/v1",
        "kind": "CronTab",
        "metadata": {"name": "every-minute"},
        "spec": {"cronSpec": "* * * * *"},
    }
    err = await refused_until_enforced(cluster, ns, crontab)
    assert err.strip() == (
        f"The crontabs \"every-minute\" is invalid: : ValidatingAdmissionPolicy '{name}' with "
        f"binding '{name}' denied request: too often"
    )
