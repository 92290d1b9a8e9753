"""The bootstrap policy's Roles and RoleBindings in kube-system and kube-public (bootstrappolicy's
namespace_policy.go, as of 1.31): reading the extension-apiserver-authentication ConfigMap, the
controller-manager's and scheduler's ConfigMap leader locks, and the bootstrap signer's, cloud
provider's and token cleaner's roles."""

from __future__ import annotations

from apiserver.auth.bootstrap_objects import READ, events_rule, role, role_binding, rule
from podplane.api.rbac.v1 import rbac_pb2

KUBE_SYSTEM = "kube-system"
KUBE_PUBLIC = "kube-public"
PREFIX = "system:controller:"
AUTHENTICATION_CONFIG_MAP = "extension-apiserver-authentication"
AUTHENTICATION_READER = "extension-apiserver-authentication-reader"
AUTHENTICATION_READER_BINDING = "system::extension-apiserver-authentication-reader"
CONTROLLER_MANAGER_USER = "system:kube-controller-manager"
SCHEDULER_USER = "system:kube-scheduler"


def _leader_locking(component: str) -> rbac_pb2.Role:
    return role(
        KUBE_SYSTEM,
        f"system::leader-locking-{component}",
        [
            rule(("watch",), ("",), ("configmaps",)),
            rule(("get", "update"), ("",), ("configmaps",), names=(component,)),
        ],
    )


def namespace_roles() -> list[rbac_pb2.Role]:
    return [
        role(
            KUBE_SYSTEM,
            AUTHENTICATION_READER,
            [rule(READ, ("",), ("configmaps",), names=(AUTHENTICATION_CONFIG_MAP,))],
        ),
        _leader_locking("kube-controller-manager"),
        _leader_locking("kube-scheduler"),
        role(KUBE_SYSTEM, PREFIX + "bootstrap-signer", [rule(READ, ("",), ("secrets",))]),
        role(
            KUBE_SYSTEM,
            PREFIX + "cloud-provider",
            [rule(("create", *READ), ("",), ("configmaps",))],
        ),
        role(
            KUBE_SYSTEM,
            PREFIX + "token-cleaner",
            [rule(("delete", *READ), ("",), ("secrets",)), events_rule()],
        ),
        role(
            KUBE_PUBLIC,
            PREFIX + "bootstrap-signer",
            [
                rule(READ, ("",), ("configmaps",)),
                rule(("update",), ("",), ("configmaps",), names=("cluster-info",)),
                events_rule(),
            ],
        ),
    ]


def namespace_role_bindings() -> list[rbac_pb2.RoleBinding]:
    return [
        role_binding(
            KUBE_SYSTEM,
            AUTHENTICATION_READER,
            users=(CONTROLLER_MANAGER_USER, SCHEDULER_USER),
            name=AUTHENTICATION_READER_BINDING,
        ),
        role_binding(
            KUBE_SYSTEM,
            "system::leader-locking-kube-controller-manager",
            users=(CONTROLLER_MANAGER_USER,),
            service_accounts=((KUBE_SYSTEM, "kube-controller-manager"),),
        ),
        role_binding(
            KUBE_SYSTEM,
            "system::leader-locking-kube-scheduler",
            users=(SCHEDULER_USER,),
            service_accounts=((KUBE_SYSTEM, "kube-scheduler"),),
        ),
        *(
            role_binding(KUBE_SYSTEM, PREFIX + name, service_accounts=((KUBE_SYSTEM, name),))
            for name in ("bootstrap-signer", "cloud-provider", "token-cleaner")
        ),
        role_binding(
            KUBE_PUBLIC,
            PREFIX + "bootstrap-signer",
            service_accounts=((KUBE_SYSTEM, "bootstrap-signer"),),
        ),
    ]
