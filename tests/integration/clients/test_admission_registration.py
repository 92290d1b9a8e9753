"""admissionregistration.k8s.io/v1 on the real apiserver over real etcd, at both doors: the
official Python client's AdmissionregistrationV1Api creates, reads, lists, replaces and deletes
webhook configurations, policies and bindings (defaulted as Kubernetes defaults them, the
policy's status written through its subresource), a refusal is Kubernetes' 422 Status naming
the field; the gRPC door serves the same objects from the same registry with the same rules;
kubectl prints Kubernetes' columns and explains the schema; client-go's protobuf writes and
reads them. No webhook is called here (their rules name deployments, which no test of this
module creates; the configurations are deleted as the module ends); the policies here match no
object a test creates (their enforcement: test_validating_admission_policy.py)."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
import pytest_asyncio
from kubernetes import client as k8s

from apiserver.endpoints.rest.protobuf_kinds import MAGIC, MEDIA_TYPE
from podplane.api.admissionregistration.v1 import admissionregistration_pb2 as admreg_pb2
from podplane.api.k8swire.admissionregistration.v1 import admissionregistration_pb2 as wire
from podplane.api.k8swire.runtime import runtime_pb2
from podplane.apimachinery import manifest
from tests.integration.rest_cluster import RestCluster, in_thread, rest_cluster
from tests.support import EtcdProcess, eventually

GROUP = "admissionregistration.k8s.io/v1"
NOW = "2026-11-26T21:00:00Z"
RULE = {
    "operations": ["CREATE"],
    "apiGroups": ["apps"],
    "apiVersions": ["v1"],
    "resources": ["deployments"],
}
# Policies are enforced, and this cluster's etcd is every module's: these policies match only
# a Deployment no test creates.
STORED_ONLY = {**RULE, "resourceNames": ["stored-only-never-created"]}


@pytest_asyncio.fixture(scope="module")
async def cluster(
    etcd: EtcdProcess, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RestCluster]:
    async with rest_cluster(etcd, tmp_path_factory.mktemp("admission-registration")) as c:
        yield c
        # Their webhooks are called now: none is left for the modules after this one, which
        # share the session's etcd (they would fail every deployment's create, their service
        # being nowhere).
        for plural in ("mutatingwebhookconfigurations", "validatingwebhookconfigurations"):
            client = getattr(c.grpc, plural)
            for item in (await client.list()).items:
                await client.delete(item.metadata.name)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def api(cluster: RestCluster) -> Any:
    return k8s.AdmissionregistrationV1Api(cluster.api_client())


def webhook_configuration(name: str, hook_name: str = "deployments.policy.example.com") -> Any:
    return {
        "apiVersion": GROUP,
        "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": name},
        "webhooks": [
            {
                "name": hook_name,
                "clientConfig": {"service": {"namespace": "policy", "name": "hook"}},
                "rules": [RULE],
                "sideEffects": "None",
                "admissionReviewVersions": ["v1"],
            }
        ],
    }


def policy(name: str, expression: str = "object.spec.replicas <= 5") -> Any:
    return {
        "apiVersion": GROUP,
        "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": name},
        "spec": {
            "paramKind": {"apiVersion": "v1", "kind": "ConfigMap"},
            "matchConstraints": {"resourceRules": [STORED_ONLY]},
            "validations": [{"expression": expression}],
        },
    }


async def test_the_python_client_writes_and_reads_a_webhook_configuration_defaulted(
    cluster: RestCluster,
) -> None:
    name = unique("hooks")
    v1 = api(cluster)
    created = await in_thread(
        v1.create_validating_webhook_configuration, webhook_configuration(name)
    )
    hook = created.webhooks[0]
    assert (hook.failure_policy, hook.match_policy, hook.timeout_seconds) == (
        "Fail",
        "Equivalent",
        10,
    )
    assert hook.client_config.service.port == 443
    assert hook.rules[0].scope == "*"
    assert created.metadata.generation == 1
    read = await in_thread(v1.read_validating_webhook_configuration, name)
    assert read.webhooks[0].name == "deployments.policy.example.com"
    listed = await in_thread(v1.list_validating_webhook_configuration)
    assert name in [c.metadata.name for c in listed.items]
    read.webhooks[0].timeout_seconds = 5
    replaced = await in_thread(v1.replace_validating_webhook_configuration, name, read)
    assert (replaced.webhooks[0].timeout_seconds, replaced.metadata.generation) == (5, 2)
    await in_thread(v1.delete_validating_webhook_configuration, name)
    with pytest.raises(k8s.ApiException) as gone:
        await in_thread(v1.read_validating_webhook_configuration, name)
    assert gone.value.status == 404


async def test_a_refusal_is_a_422_status_naming_the_field(cluster: RestCluster) -> None:
    name = unique("bad")
    body = webhook_configuration(name, hook_name="policy.example")
    body["webhooks"][0]["timeoutSeconds"] = 31
    with pytest.raises(k8s.ApiException) as refused:
        await in_thread(api(cluster).create_validating_webhook_configuration, body)
    assert refused.value.status == 422
    status = json.loads(refused.value.body or "{}")
    assert status["reason"] == "Invalid"
    assert status["message"] == (
        f'ValidatingWebhookConfiguration.admissionregistration.k8s.io "{name}" is invalid: ['
        'webhooks[0].name: Invalid value: "policy.example": should be a domain with at least '
        "three segments separated by dots, webhooks[0].timeoutSeconds: Invalid value: 31: the "
        "timeout value must be between 1 and 30 seconds]"
    )
    assert [(c["field"], c["reason"]) for c in status["details"]["causes"]] == [
        ("webhooks[0].name", "FieldValueInvalid"),
        ("webhooks[0].timeoutSeconds", "FieldValueInvalid"),
    ]


async def test_a_policy_whose_expression_does_not_compile_is_refused(
    cluster: RestCluster,
) -> None:
    name = unique("policy")
    with pytest.raises(k8s.ApiException) as refused:
        await in_thread(
            api(cluster).create_validating_admission_policy, policy(name, "object.spec.replicas <")
        )
    assert refused.value.status == 422
    causes = json.loads(refused.value.body or "{}")["details"]["causes"]
    assert [c["field"] for c in causes] == ["spec.validations[0].expression"]
    assert causes[0]["message"].startswith(
        'Invalid value: "object.spec.replicas <": compilation failed: ERROR: <input>:1:23: '
        "Syntax error:"
    )


async def test_a_policy_its_status_and_its_binding(cluster: RestCluster) -> None:
    v1 = api(cluster)
    name = unique("replicas")
    created = await in_thread(v1.create_validating_admission_policy, policy(name))
    assert created.spec.failure_policy == "Fail"
    assert created.spec.match_constraints.match_policy == "Equivalent"

    async def type_checked() -> Any:
        read = await in_thread(v1.read_validating_admission_policy, name)
        return read if read.status and read.status.observed_generation == 1 else None

    # The status controller type-checks it first (no warning: Deployments have spec.replicas).
    created = await eventually(type_checked, what="the status controller's type checking")
    assert not created.status.type_checking.expression_warnings
    created.status = k8s.V1ValidatingAdmissionPolicyStatus(
        observed_generation=1,
        type_checking=k8s.V1TypeChecking(
            expression_warnings=[
                k8s.V1ExpressionWarning(
                    field_ref="spec.validations[0].expression", warning="no such field"
                )
            ]
        ),
    )
    created.spec.validations[0].expression = "false"  # a status write leaves the spec alone
    written = await in_thread(v1.replace_validating_admission_policy_status, name, created)
    assert written.status.observed_generation == 1
    assert written.status.type_checking.expression_warnings[0].warning == "no such field"
    assert written.spec.validations[0].expression == "object.spec.replicas <= 5"
    binding: dict[str, Any] = {
        "apiVersion": GROUP,
        "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": f"{name}-binding"},
        "spec": {
            "policyName": name,
            "paramRef": {"name": "limits", "namespace": "team", "parameterNotFoundAction": "Deny"},
            "validationActions": ["Deny", "Audit"],
        },
    }
    made = await in_thread(v1.create_validating_admission_policy_binding, binding)
    assert made.spec.validation_actions == ["Deny", "Audit"]
    rows = (await cluster.kubectl_ok("get", "validatingadmissionpolicybindings")).splitlines()
    assert re.split(r"\s{2,}", rows[0]) == ["NAME", "POLICYNAME", "PARAMREF", "AGE"]
    row = next(re.split(r"\s{2,}", r) for r in rows if r.startswith(f"{name}-binding "))
    assert row[:3] == [f"{name}-binding", name, "team/limits"]
    rows = (await cluster.kubectl_ok("get", "validatingadmissionpolicies", name)).splitlines()
    assert re.split(r"\s{2,}", rows[0]) == ["NAME", "VALIDATIONS", "PARAMKIND", "AGE"]
    assert re.split(r"\s{2,}", rows[1])[:3] == [name, "1", "v1/ConfigMap"]
    binding["metadata"]["name"] = f"{name}-warned"
    binding["spec"]["validationActions"] = ["Deny", "Warn"]
    with pytest.raises(k8s.ApiException) as refused:
        await in_thread(v1.create_validating_admission_policy_binding, binding)
    assert refused.value.status == 422
    causes = json.loads(refused.value.body or "{}")["details"]["causes"]
    assert [c["field"] for c in causes] == ["spec.validationActions"]


async def test_the_grpc_door_serves_the_same_objects_under_the_same_rules(
    cluster: RestCluster,
) -> None:
    name = unique("mutating")
    body = webhook_configuration(name) | {"kind": "MutatingWebhookConfiguration"}
    obj = manifest.from_dict(body)
    assert isinstance(obj, admreg_pb2.MutatingWebhookConfiguration)
    created = await cluster.grpc.mutatingwebhookconfigurations.create(obj)
    assert created.webhooks[0].reinvocation_policy == "Never"
    assert created.webhooks[0].timeout_seconds == 10
    # The same object through the REST door.
    read = await in_thread(api(cluster).read_mutating_webhook_configuration, name)
    assert read.metadata.uid == created.metadata.uid
    rows = (await cluster.kubectl_ok("get", "mutatingwebhookconfigurations", name)).splitlines()
    assert re.split(r"\s{2,}", rows[0]) == ["NAME", "WEBHOOKS", "AGE"]
    assert re.split(r"\s{2,}", rows[1])[:2] == [name, "1"]
    bad = admreg_pb2.MutatingWebhookConfiguration()
    bad.CopyFrom(obj)
    bad.metadata.name = unique("bad")
    bad.webhooks[0].ClearField("side_effects")
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await cluster.grpc.mutatingwebhookconfigurations.create(bad)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert refused.value.details() == (
        f'MutatingWebhookConfiguration.admissionregistration.k8s.io "{bad.metadata.name}" is '
        "invalid: webhooks[0].sideEffects: Required value: must specify one of None, NoneOnDryRun"
    )
    await cluster.grpc.mutatingwebhookconfigurations.delete(name)
    listed, _ = await cluster.grpc.mutatingwebhookconfigurations.list_all()
    assert name not in [c.metadata.name for c in listed]
    # A policy's status through UpdateStatus, read back at the REST door.
    made = manifest.from_dict(policy(unique("grpc-policy")))
    assert isinstance(made, admreg_pb2.ValidatingAdmissionPolicy)
    stored = await cluster.grpc.validatingadmissionpolicies.create(made)

    async def type_checked() -> admreg_pb2.ValidatingAdmissionPolicy | None:
        read = await cluster.grpc.validatingadmissionpolicies.get(stored.metadata.name)
        return read if read.status.observed_generation == 1 else None

    stored = await eventually(type_checked, what="the status controller's type checking")
    stored.status.conditions.add(
        type="Ready", status="True", reason="Checked", message="", last_transition_time=NOW
    )
    stored = await cluster.grpc.validatingadmissionpolicies.update_status(stored)
    read_policy = await in_thread(
        api(cluster).read_validating_admission_policy, stored.metadata.name
    )
    assert read_policy.status.observed_generation == 1
    assert [(c.type, c.status) for c in read_policy.status.conditions] == [("Ready", "True")]
    stored.status.conditions[0].status = "Maybe"
    with pytest.raises(grpc.aio.AioRpcError) as bad_status:
        await cluster.grpc.validatingadmissionpolicies.update_status(stored)
    assert bad_status.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert 'status.conditions[0].status: Unsupported value: "Maybe"' in (
        bad_status.value.details() or ""
    )


async def test_explain_prints_the_webhook_rules_schema(cluster: RestCluster) -> None:
    out = await cluster.kubectl_ok("explain", "validatingwebhookconfiguration.webhooks.rules")
    lines = out.splitlines()
    assert lines[:3] == [
        "GROUP:      admissionregistration.k8s.io",
        "KIND:       ValidatingWebhookConfiguration",
        "VERSION:    v1",
    ]
    assert "FIELD: rules <[]RuleWithOperations>" in lines
    fields = dict(line.strip().split("\t") for line in lines if re.match(r"  \w+\t", line))
    assert fields == {
        "apiGroups": "<[]string>",
        "apiVersions": "<[]string>",
        "operations": "<[]string>",
        "resources": "<[]string>",
        "scope": "<string>",
    }


async def test_kubectl_apply_merges_webhooks_by_name_and_server_side_apply_owns_them(
    cluster: RestCluster,
) -> None:
    name = unique("applied")
    body = webhook_configuration(name) | {"kind": "MutatingWebhookConfiguration"}
    second = dict(body["webhooks"][0], name="replicas.policy.example.com")
    body["webhooks"] = [body["webhooks"][0], second]
    out = await cluster.kubectl_ok("apply", "-f", "-", stdin=json.dumps(body))
    assert out == f"mutatingwebhookconfiguration.admissionregistration.k8s.io/{name} created\n"
    body["webhooks"] = [dict(second, timeoutSeconds=3)]
    out = await cluster.kubectl_ok("apply", "-f", "-", stdin=json.dumps(body))
    assert out == f"mutatingwebhookconfiguration.admissionregistration.k8s.io/{name} configured\n"
    got = json.loads(
        await cluster.kubectl_ok("get", "mutatingwebhookconfiguration", name, "-o", "json")
    )
    assert [(h["name"], h["timeoutSeconds"]) for h in got["webhooks"]] == [
        ("replicas.policy.example.com", 3)
    ]
    assert got["metadata"]["generation"] == 2
    policy_name = unique("ssa")
    out = await cluster.kubectl_ok(
        "apply", "--server-side", "-f", "-", stdin=json.dumps(policy(policy_name))
    )
    assert out == (
        f"validatingadmissionpolicy.admissionregistration.k8s.io/{policy_name} serverside-applied\n"
    )
    read = json.loads(
        await cluster.kubectl_ok(
            "get", "validatingadmissionpolicy", policy_name, "-o", "json", "--show-managed-fields"
        )
    )
    managers = [m["manager"] for m in read["metadata"]["managedFields"]]
    # and the status controller of its status, once it has type-checked it
    assert managers in (["kubectl"], ["kubectl", "validatingadmissionpolicy-status"])
    assert read["spec"]["failurePolicy"] == "Fail"


async def test_a_writer_must_be_able_to_read_the_parameters(cluster: RestCluster) -> None:
    """A user who may create policies and bindings but not read ConfigMaps may not make a
    policy whose paramKind is ConfigMap, nor bind one to a ConfigMap (Kubernetes' 422); once
    allowed to read them, may."""
    user = unique("writer")
    role = f"{user}-policies"
    await cluster.kubectl_ok(
        "create",
        "clusterrole",
        role,
        "--verb=create",
        "--resource=validatingadmissionpolicies.admissionregistration.k8s.io",
        "--resource=validatingadmissionpolicybindings.admissionregistration.k8s.io",
    )
    await cluster.kubectl_ok(
        "create", "clusterrolebinding", role, f"--clusterrole={role}", f"--user={user}"
    )
    name = unique("params")
    body = json.dumps(policy(name))

    async def refused_for_params() -> str | None:
        # RBAC sees the new binding through its watch: until then the refusal is a 403.
        ran = await cluster.kubectl("create", f"--as={user}", "-f", "-", stdin=body)
        return ran.err if "is invalid" in ran.err else None

    refusal = await eventually(refused_for_params, timeout=10, what="the paramKind refusal")
    assert refusal == (
        f'The ValidatingAdmissionPolicy "{name}" is invalid: spec.paramKind: Forbidden: user '
        f'&{{{user}  [system:authenticated] map[]}} must have "get" permission on all objects '
        "of the referenced paramKind (kind=ConfigMap, apiVersion=v1)\n"
    )
    await cluster.kubectl_ok("create", "-f", "-", stdin=body)  # the admin may
    binding = {
        "apiVersion": GROUP,
        "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": f"{name}-binding"},
        "spec": {
            "policyName": name,
            "paramRef": {"name": "limits", "namespace": "team", "parameterNotFoundAction": "Deny"},
            "validationActions": ["Deny"],
        },
    }
    refused = await cluster.kubectl("create", f"--as={user}", "-f", "-", stdin=json.dumps(binding))
    assert refused.err == (
        f'The ValidatingAdmissionPolicyBinding "{name}-binding" is invalid: spec.paramRef: '
        f'Forbidden: user &{{{user}  [system:authenticated] map[]}} does not have "get" '
        "permission on the object referenced by paramRef\n"
    )
    reader = f"{user}-configmaps"
    await cluster.kubectl_ok("create", "clusterrole", reader, "--verb=get", "--resource=configmaps")
    await cluster.kubectl_ok(
        "create", "clusterrolebinding", reader, f"--clusterrole={reader}", f"--user={user}"
    )

    async def created() -> str | None:
        ran = await cluster.kubectl("create", f"--as={user}", "-f", "-", stdin=json.dumps(binding))
        return ran.out if ran.code == 0 else None

    out = await eventually(created, timeout=10, what="the binding created once allowed")
    assert out == (
        f"validatingadmissionpolicybinding.admissionregistration.k8s.io/{name}-binding created\n"
    )


def _protobuf_request(
    api_client: k8s.ApiClient, method: str, path: str, body: bytes | None = None
) -> tuple[int, bytes]:
    """A request in Kubernetes' protobuf, as client-go's typed clients send it."""
    headers = {"Accept": f"{MEDIA_TYPE}, */*"}
    if body is not None:
        headers["Content-Type"] = MEDIA_TYPE
    params = api_client.param_serialize(
        method, path, header_params=headers, body=body, auth_settings=["BearerToken"]
    )
    response: Any = api_client.call_api(*params)
    data: bytes = response.read()
    return response.status, data


async def test_client_go_protobuf_writes_and_reads_a_webhook_configuration(
    cluster: RestCluster,
) -> None:
    name = unique("protobuf")
    sent = wire.ValidatingWebhookConfiguration()
    sent.metadata.name = name
    hook = sent.webhooks.add(name="deployments.policy.example.com", sideEffects="None")
    hook.clientConfig.url = "https://hooks.example.com/validate"
    hook.admissionReviewVersions.append("v1")
    rule = hook.rules.add(operations=["CREATE"])
    rule.rule.apiGroups.append("apps")
    rule.rule.apiVersions.append("v1")
    rule.rule.resources.append("deployments")
    envelope = runtime_pb2.Unknown(
        typeMeta=runtime_pb2.TypeMeta(apiVersion=GROUP, kind="ValidatingWebhookConfiguration"),
        raw=sent.SerializeToString(),
    )
    path = "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations"
    status, data = await in_thread(
        _protobuf_request, cluster.api_client(), "POST", path, MAGIC + envelope.SerializeToString()
    )
    assert status == 201
    status, data = await in_thread(_protobuf_request, cluster.api_client(), "GET", f"{path}/{name}")
    assert status == 200 and data.startswith(MAGIC)
    answer = runtime_pb2.Unknown.FromString(data[len(MAGIC) :])
    assert answer.typeMeta.kind == "ValidatingWebhookConfiguration"
    got = wire.ValidatingWebhookConfiguration.FromString(answer.raw)
    [read] = got.webhooks
    assert (read.failurePolicy, read.matchPolicy, read.timeoutSeconds) == ("Fail", "Equivalent", 10)
    assert list(read.rules[0].rule.resources) == ["deployments"]
    assert read.rules[0].rule.scope == "*"
    assert read.clientConfig.url == "https://hooks.example.com/validate"
