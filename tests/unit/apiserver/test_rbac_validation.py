"""Role, ClusterRole and binding rules, with Kubernetes' field paths and messages
(pkg/apis/rbac/validation), and the binding defaults (pkg/apis/rbac/v1/defaults.go)."""

from __future__ import annotations

from typing import Any

import pytest

from apiserver.defaulting import rbac as rbac_defaulting
from apiserver.validation import rbac
from podplane.apimachinery import manifest

GROUP = "rbac.authorization.k8s.io"


def obj(kind: str, **fields: Any) -> Any:
    meta: dict[str, Any] = {"name": "r"}
    if kind in ("Role", "RoleBinding"):
        meta["namespace"] = "x"
    return manifest.from_dict(
        {"apiVersion": f"{GROUP}/v1", "kind": kind, "metadata": meta, **fields}
    )


def messages(errs: list[Any]) -> list[str]:
    return [str(e) for e in errs]


PODS = {"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}
REF = {"apiGroup": GROUP, "kind": "Role", "name": "pod-reader"}

ROLE_CASES = [
    ("valid", [PODS], []),
    (
        "no verbs",
        [{"apiGroups": [""], "resources": ["pods"]}],
        ["rules[0].verbs: Required value: verbs must contain at least one value"],
    ),
    (
        "no group, no resource",
        [{"verbs": ["get"]}],
        [
            "rules[0].apiGroups: Required value: resource rules must supply at least one api group",
            "rules[0].resources: Required value: resource rules must supply at least one resource",
        ],
    ),
    (
        "URLs in a namespaced role",
        [{"verbs": ["get"], "nonResourceURLs": ["/healthz"]}],
        [
            'rules[0].nonResourceURLs: Invalid value: []string{"/healthz"}: namespaced rules '
            "cannot apply to non-resource URLs"
        ],
    ),
]


@pytest.mark.parametrize(("name", "rules", "want"), ROLE_CASES, ids=[c[0] for c in ROLE_CASES])
def test_role_rules(name: str, rules: list[Any], want: list[str]) -> None:
    assert messages(rbac.role(obj("Role", rules=rules))) == want


def test_cluster_role_rules_may_name_urls_but_not_with_resources() -> None:
    assert (
        rbac.cluster_role(obj("ClusterRole", rules=[{"verbs": ["get"], "nonResourceURLs": ["/x"]}]))
        == []
    )
    mixed = {"verbs": ["get"], "nonResourceURLs": ["/x"], "resources": ["pods"]}
    assert messages(rbac.cluster_role(obj("ClusterRole", rules=[mixed]))) == [
        'rules[0].nonResourceURLs: Invalid value: []string{"/x"}: rules cannot apply to both '
        "regular resources and non-resource URLs"
    ]


def test_aggregation_rule_needs_a_selector() -> None:
    role = obj("ClusterRole", aggregationRule={"clusterRoleSelectors": []})
    role.aggregation_rule.SetInParent()
    assert messages(rbac.cluster_role(role)) == [
        "aggregationRule.clusterRoleSelectors: Required value: at least one clusterRoleSelector "
        "required if aggregationRule is non-nil"
    ]


@pytest.mark.parametrize(
    ("name", "want"),
    [
        ("a:b.c", []),
        ("..", ["metadata.name: Invalid value: \"..\": may not be '..'"]),
        ("a/b", ["metadata.name: Invalid value: \"a/b\": may not contain '/'"]),
    ],
)
def test_names_are_path_segments(name: str, want: list[str]) -> None:
    role = obj("ClusterRole", rules=[])
    role.metadata.name = name
    assert messages(rbac.cluster_role(role)) == want


BINDING_CASES = [
    ("user", {"kind": "User", "apiGroup": GROUP, "name": "jane"}, True, []),
    ("service account", {"kind": "ServiceAccount", "name": "bot"}, True, []),
    (
        "service account cluster-wide without namespace",
        {"kind": "ServiceAccount", "name": "bot"},
        False,
        ["subjects[0].namespace: Required value"],
    ),
    (
        "service account in a group",
        {"kind": "ServiceAccount", "name": "bot", "apiGroup": GROUP},
        True,
        [f'subjects[0].apiGroup: Unsupported value: "{GROUP}": supported values: ""'],
    ),
    (
        "user in the core group",
        {"kind": "User", "apiGroup": "", "name": "jane"},
        True,
        [f'subjects[0].apiGroup: Unsupported value: "": supported values: "{GROUP}"'],
    ),
    (
        "unknown kind, no name",
        {"kind": "Robot"},
        True,
        [
            "subjects[0].name: Required value",
            'subjects[0].kind: Unsupported value: "Robot": supported values: '
            '"ServiceAccount", "User", "Group"',
        ],
    ),
]


@pytest.mark.parametrize(
    ("name", "subject", "namespaced", "want"), BINDING_CASES, ids=[c[0] for c in BINDING_CASES]
)
def test_subjects(name: str, subject: dict[str, str], namespaced: bool, want: list[str]) -> None:
    if namespaced:
        b = obj("RoleBinding", roleRef=REF, subjects=[subject])
        errs = rbac.role_binding(b)
    else:
        b = obj("ClusterRoleBinding", roleRef={**REF, "kind": "ClusterRole"}, subjects=[subject])
        errs = rbac.cluster_role_binding(b)
    assert messages(errs) == want


def test_role_ref_kinds() -> None:
    assert messages(rbac.cluster_role_binding(obj("ClusterRoleBinding", roleRef=REF))) == [
        'roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"'
    ]
    assert messages(rbac.role_binding(obj("RoleBinding", roleRef={"kind": "Role"}))) == [
        f'roleRef.apiGroup: Unsupported value: "": supported values: "{GROUP}"',
        "roleRef.name: Required value",
    ]


def test_role_ref_is_immutable() -> None:
    old = obj("RoleBinding", roleRef=REF)
    new = obj("RoleBinding", roleRef={**REF, "name": "other"})
    assert messages(rbac.role_binding_update(new, old)) == [
        f'roleRef: Invalid value: rbac.RoleRef{{APIGroup:"{GROUP}", Kind:"Role", '
        'Name:"other"}: cannot change roleRef'
    ]
    assert rbac.role_binding_update(obj("RoleBinding", roleRef=REF), old) == []


def test_defaults_put_users_groups_and_the_role_in_the_rbac_group() -> None:
    b = obj(
        "RoleBinding",
        roleRef={"kind": "Role", "name": "r"},
        subjects=[
            {"kind": "User", "name": "u"},
            {"kind": "Group", "name": "g"},
            {"kind": "ServiceAccount", "name": "s"},
        ],
    )
    rbac_defaulting.binding(b)
    assert b.role_ref.api_group == GROUP
    assert [s.api_group for s in b.subjects] == [GROUP, GROUP, ""]
    assert rbac.role_binding(b) == []
