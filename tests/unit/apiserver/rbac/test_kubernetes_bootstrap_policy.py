"""podplane's bootstrap policy is Kubernetes 1.31's: the same ClusterRoles, ClusterRoleBindings,
Roles and RoleBindings by name, each role's rules in the policy's order with each list sorted as
Kubernetes' rule builder sorts it, each binding's role and subjects
(kubernetes_1_31_bootstrap_policy.yaml, in a compact form of bootstrappolicy's testdata); what
podplane adds is named podplane:* and changes none of them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from apiserver.auth import bootstrap_policy
from apiserver.auth.policy import PODPLANE_CONTROLLER_ROLES
from podplane.api.rbac.v1 import rbac_pb2

EXPECTED: dict[str, Any] = yaml.safe_load(
    (Path(__file__).parent / "kubernetes_1_31_bootstrap_policy.yaml").read_text()
)
LABEL = ("kubernetes.io/bootstrapping", "rbac-defaults")


def _rule(r: rbac_pb2.PolicyRule) -> str:
    parts = [f"verbs={','.join(r.verbs)}"]
    if r.non_resource_urls:
        parts.append(f"urls={','.join(r.non_resource_urls)}")
    else:
        parts += [f"groups={','.join(r.api_groups)}", f"resources={','.join(r.resources)}"]
    if r.resource_names:
        parts.append(f"names={','.join(r.resource_names)}")
    return " ".join(parts)


def _role(r: rbac_pb2.ClusterRole | rbac_pb2.Role) -> dict[str, Any] | None:
    out: dict[str, Any] = {}
    if isinstance(r, rbac_pb2.ClusterRole) and r.HasField("aggregation_rule"):
        out["aggregate"] = [
            f"{k}={v}"
            for selector in r.aggregation_rule.cluster_role_selectors
            for k, v in selector.match_labels.items()
        ]
    labels = [f"{k}={v}" for k, v in r.metadata.labels.items() if (k, v) != LABEL]
    if labels:
        out["labels"] = labels
    if r.rules:
        out["rules"] = [_rule(x) for x in r.rules]
    return out or None


def _subject(s: rbac_pb2.Subject) -> str:
    if s.kind == "ServiceAccount":
        return f"ServiceAccount {s.namespace}/{s.name}"
    return f"{s.kind} {s.name}"


def _binding(b: rbac_pb2.ClusterRoleBinding | rbac_pb2.RoleBinding) -> dict[str, Any]:
    out: dict[str, Any] = {"role": f"{b.role_ref.kind} {b.role_ref.name}"}
    if b.subjects:
        out["subjects"] = [_subject(s) for s in b.subjects]
    return out


def _key(obj: Any) -> str:
    meta = obj.metadata
    return f"{meta.namespace}/{meta.name}" if meta.namespace else str(meta.name)


def _ours() -> dict[str, dict[str, Any]]:
    return {
        "clusterRoles": {_key(r): _role(r) for r in bootstrap_policy.cluster_roles()},
        "clusterRoleBindings": {
            _key(b): _binding(b) for b in bootstrap_policy.cluster_role_bindings()
        },
        "roles": {_key(r): _role(r) for r in bootstrap_policy.roles()},
        "roleBindings": {_key(b): _binding(b) for b in bootstrap_policy.role_bindings()},
    }


@pytest.mark.parametrize("kind", ["clusterRoles", "clusterRoleBindings", "roles", "roleBindings"])
def test_the_policy_is_kubernetes_1_31s(kind: str) -> None:
    ours = _ours()[kind]
    kubernetes = {k: ours[k] for k in ours if not k.startswith("podplane:")}
    assert sorted(kubernetes) == sorted(EXPECTED[kind])
    for name, expected in EXPECTED[kind].items():
        assert kubernetes[name] == expected, name


def test_about_seventy_cluster_roles_and_their_bindings() -> None:
    assert len(EXPECTED["clusterRoles"]) >= 60
    controllers = [n for n in EXPECTED["clusterRoles"] if n.startswith("system:controller:")]
    for name in controllers:
        account = name.removeprefix("system:controller:")
        assert EXPECTED["clusterRoleBindings"][name] == {
            "role": f"ClusterRole {name}",
            "subjects": [f"ServiceAccount kube-system/{account}"],
        }


def test_podplane_adds_only_its_own_objects_which_name_existing_roles() -> None:
    roles = {r.metadata.name for r in bootstrap_policy.cluster_roles()}
    extra_roles = roles - set(EXPECTED["clusterRoles"])
    assert extra_roles == {
        "podplane:viewer",
        "podplane:kube-scheduler",
        "podplane:kube-controller-manager",
        # What podplane's controllers do beyond their Kubernetes roles, as their own accounts.
        *(f"podplane:controller:{account}" for account in PODPLANE_CONTROLLER_ROLES),
    }
    for b in bootstrap_policy.cluster_role_bindings():
        if b.metadata.name not in EXPECTED["clusterRoleBindings"]:
            assert b.metadata.name.startswith("podplane:")
        assert b.role_ref.name in roles
    namespaced = {(r.metadata.namespace, r.metadata.name) for r in bootstrap_policy.roles()}
    for rb in bootstrap_policy.role_bindings():
        assert (rb.metadata.namespace, rb.role_ref.name) in namespaced


def test_each_controller_account_holds_podplanes_extra_role_beside_kubernetes() -> None:
    bindings = {b.metadata.name: b for b in bootstrap_policy.cluster_role_bindings()}
    for account in PODPLANE_CONTROLLER_ROLES:
        binding = bindings[f"podplane:controller:{account}"]
        assert binding.role_ref.name == f"podplane:controller:{account}"
        assert [(s.kind, s.namespace, s.name) for s in binding.subjects] == [
            ("ServiceAccount", "kube-system", account)
        ]


def test_every_object_is_labelled_and_annotated_as_kubernetes_does() -> None:
    objects: list[Any] = [
        *bootstrap_policy.cluster_roles(),
        *bootstrap_policy.cluster_role_bindings(),
        *bootstrap_policy.roles(),
        *bootstrap_policy.role_bindings(),
    ]
    for obj in objects:
        assert obj.metadata.labels[LABEL[0]] == LABEL[1], _key(obj)
        assert dict(obj.metadata.annotations) == {bootstrap_policy.AUTOUPDATE: "true"}, _key(obj)
