"""The policies' type checking and their status controller (typechecking.go and
kube-controller-manager's validatingadmissionpolicy-status-controller): warnings for fields the
matched kinds do not have, in Kubernetes' form, and the status written once per generation."""

from __future__ import annotations

from typing import Any

from apiserver.admission.policy.type_checking import (
    GroupVersionKind,
    builtin_kinds,
    builtin_schema_type,
    check,
    types_to_check,
)
from apiserver.controlplane.policy_status import CONTROLLER_NAME, PolicyStatusController
from apiserver.registry.generic.managed_fields import SERVER, Manager
from podplane.api.admissionregistration.v1 import admissionregistration_pb2 as admreg_pb2
from podplane.apimachinery import manifest

RULE = {"apiGroups": ["apps"], "apiVersions": ["v1"], "operations": ["CREATE"]}


def policy(*validations: dict[str, str], resources: list[str] | None = None, **spec: Any) -> Any:
    rule = {**RULE, "resources": resources or ["deployments"]}
    spec.update(matchConstraints={"resourceRules": [rule]}, validations=list(validations))
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": "p", "generation": 1, "resourceVersion": "5"},
        "spec": spec,
    }


def warnings(p: Any) -> list[tuple[str, str]]:
    return [(w["fieldRef"], w["warning"]) for w in check(p, builtin_kinds, builtin_schema_type)]


def test_a_field_the_kind_does_not_have_is_a_warning() -> None:
    assert warnings(policy({"expression": "object.spec.replica > 1"})) == [
        (
            "spec.validations[0].expression",
            "apps/v1, Kind=Deployment: compilation failed: ERROR: <input>:1:12: undefined field "
            "'replica'\n | object.spec.replica > 1\n | ...........^\n",
        )
    ]


def test_fields_that_exist_variables_and_message_expressions() -> None:
    p = policy(
        {"expression": "variables.r <= 5", "messageExpression": "object.metadata.nam"},
        variables=[{"name": "r", "expression": "object.spec.replicas"}],
    )
    assert [ref for ref, _ in warnings(p)] == ["spec.validations[0].messageExpression"]


def test_every_explicit_kind_is_checked_and_wildcards_are_not() -> None:
    p = policy(
        {"expression": "object.spec.replicas > 1"},
        resources=["deployments", "daemonsets", "deployments/scale", "*"],
    )
    assert types_to_check(p, builtin_kinds) == [
        GroupVersionKind("apps", "v1", "DaemonSet"),
        GroupVersionKind("apps", "v1", "Deployment"),
    ]
    ((_, warning),) = warnings(p)
    assert warning.startswith("apps/v1, Kind=DaemonSet: compilation failed:")
    assert "Kind=Deployment" not in warning
    p["spec"]["matchConstraints"]["resourceRules"][0]["apiGroups"] = ["*"]
    assert warnings(p) == []


def test_params_are_typed_by_the_param_kind() -> None:
    p = policy(
        {"expression": "object.spec.replicas <= int(params.datum.max)"},
        paramKind={"apiVersion": "v1", "kind": "ConfigMap"},
    )
    ((_, warning),) = warnings(p)
    assert "undefined field 'datum'" in warning


class Cache:
    def __init__(self, policy: admreg_pb2.ValidatingAdmissionPolicy) -> None:
        self.policy = policy

    def peek(self, namespace: str, name: str) -> admreg_pb2.ValidatingAdmissionPolicy | None:
        return self.policy


class Writes:
    def __init__(self) -> None:
        self.written: list[tuple[admreg_pb2.ValidatingAdmissionPolicy, Manager]] = []

    async def update_status(
        self,
        obj: admreg_pb2.ValidatingAdmissionPolicy,
        cached: admreg_pb2.ValidatingAdmissionPolicy | None = None,
        *,
        manager: Manager = SERVER,
    ) -> admreg_pb2.ValidatingAdmissionPolicy:
        self.written.append((obj, manager))
        return obj


async def test_the_status_is_written_once_per_generation() -> None:
    stored = manifest.from_dict(policy({"expression": "object.spec.replica > 1"}))
    assert isinstance(stored, admreg_pb2.ValidatingAdmissionPolicy)
    writes = Writes()
    controller = PolicyStatusController(Cache(stored), writes, builtin_kinds, builtin_schema_type)
    await controller.reconcile("p")
    ((written, manager),) = writes.written
    assert manager.field_manager == CONTROLLER_NAME
    assert written.status.observed_generation == 1
    (warning,) = written.status.type_checking.expression_warnings
    assert warning.field_ref == "spec.validations[0].expression"
    stored.status.CopyFrom(written.status)
    await controller.reconcile("p")  # observed: nothing to do
    assert len(writes.written) == 1
