"""A ValidatingAdmissionPolicy's paramKind and a binding's paramRef may only name what their
writer may read (Kubernetes' authz.go of both strategies): refused with Kubernetes' 422 and
texts; a superuser, the apiserver itself and an update that keeps the parameters pass."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from apiserver import errors
from apiserver.admission.param_authorization import ParamAuthorization, builtin_resource
from apiserver.auth.user import (
    AUTHENTICATED_GROUP,
    MASTERS_GROUP,
    UserInfo,
    reset_current_user,
    set_current_user,
)
from podplane.api.admissionregistration.v1 import admissionregistration_pb2 as admreg_pb2
from tests.unit.apiserver.admission_calls import admit_create, admit_update

ALICE = UserInfo("alice", frozenset({AUTHENTICATED_GROUP, "devs"}))


def policy(
    api_version: str = "v1", kind: str = "ConfigMap"
) -> admreg_pb2.ValidatingAdmissionPolicy:
    obj = admreg_pb2.ValidatingAdmissionPolicy()
    obj.metadata.name = "replicas"
    obj.spec.param_kind.api_version = api_version
    obj.spec.param_kind.kind = kind
    return obj


def binding(
    name: str = "limits", namespace: str = "team"
) -> admreg_pb2.ValidatingAdmissionPolicyBinding:
    obj = admreg_pb2.ValidatingAdmissionPolicyBinding()
    obj.metadata.name = "replicas-binding"
    obj.spec.policy_name = "replicas"
    obj.spec.param_ref.name = name
    obj.spec.param_ref.namespace = namespace
    return obj


class Checks:
    """The check over a fake authorizer that allows `allowed` and records what it was asked."""

    def __init__(self, *allowed: tuple[str, str, str, str, str]) -> None:
        self.allowed = set(allowed)
        self.asked: list[tuple[str, str, str, str, str]] = []
        stored = policy()

        async def lookup(name: str) -> admreg_pb2.ValidatingAdmissionPolicy | None:
            return stored if name == "replicas" else None

        def may(user: UserInfo, verb: str, group: str, res: str, ns: str, name: str) -> bool:
            self.asked.append((verb, group, res, ns, name))
            return (verb, group, res, ns, name) in self.allowed

        self.check = ParamAuthorization(
            may,
            lambda g, v, k: builtin_resource(g, v, k),
            lookup,
            lambda name: stored if name == "replicas" else None,
        )


def as_user(user: UserInfo | None, call: Any) -> Any:
    token = set_current_user(user)
    try:
        return call()
    finally:
        reset_current_user(token)


def create(checks: Checks, obj: Any, user: UserInfo | None = ALICE) -> None:
    as_user(user, lambda: asyncio.run(admit_create(checks.check, obj)))


def refusal(checks: Checks, obj: Any) -> errors.APIError:
    with pytest.raises(errors.APIError) as refused:
        create(checks, obj)
    return refused.value


def test_a_policy_needs_get_on_every_object_of_its_param_kind() -> None:
    checks = Checks()
    refused = refusal(checks, policy())
    assert refused.reason == "Invalid"
    assert str(refused) == (
        'ValidatingAdmissionPolicy.admissionregistration.k8s.io "replicas" is invalid: '
        "spec.paramKind: Forbidden: user &{alice  [devs system:authenticated] map[]} must have "
        '"get" permission on all objects of the referenced paramKind (kind=ConfigMap, '
        "apiVersion=v1)"
    )
    assert checks.asked == [("get", "", "configmaps", "*", "*")]
    create(Checks(("get", "", "configmaps", "*", "*")), policy())


def test_an_unknown_kind_needs_get_on_every_resource_of_its_group() -> None:
    checks = Checks()
    refusal(checks, policy("example.com/v1", "Limits"))
    assert checks.asked == [("get", "example.com", "*", "*", "*")]


def test_a_binding_needs_get_on_its_parameter() -> None:
    checks = Checks()
    refused = refusal(checks, binding())
    assert str(refused) == (
        'ValidatingAdmissionPolicyBinding.admissionregistration.k8s.io "replicas-binding" is '
        "invalid: spec.paramRef: Forbidden: user &{alice  [devs system:authenticated] map[]} "
        'does not have "get" permission on the object referenced by paramRef'
    )
    assert checks.asked == [("get", "", "configmaps", "team", "limits")]
    create(Checks(("get", "", "configmaps", "team", "limits")), binding())


def test_superusers_the_apiserver_and_unchanged_parameters_are_not_checked() -> None:
    checks = Checks()
    create(checks, policy(), UserInfo("root", frozenset({MASTERS_GROUP})))
    create(checks, binding(), None)
    as_user(ALICE, lambda: asyncio.run(admit_update(checks.check, "", policy(), policy())))
    as_user(ALICE, lambda: asyncio.run(admit_update(checks.check, "", binding(), binding())))
    as_user(
        ALICE, lambda: asyncio.run(admit_update(checks.check, "status", policy("v2"), policy()))
    )
    assert checks.asked == []
    with pytest.raises(errors.APIError):
        as_user(
            ALICE, lambda: asyncio.run(admit_update(checks.check, "", binding("other"), binding()))
        )
