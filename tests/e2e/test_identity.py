"""Identities on the compose cluster, with the real kubectl as a user types it: a service account
and its token (`kubectl create sa`, `kubectl create token`, the token used with `--token`, dead
once the account is deleted), `kubectl auth whoami` and `auth can-i` (with `--as`), a
RoleBinding granting what was refused, impersonation refused to whoever lacks the `impersonate`
verb, and an escalation refused."""

from __future__ import annotations

import json

import pytest

from tests.e2e.kubectl import VIEWER_KUBECONFIG, Kubectl
from tests.e2e.waiting import eventually


@pytest.fixture(scope="module")
def k(kubectl_namespace: str) -> Kubectl:
    return Kubectl(kubectl_namespace)


def token_for(k: Kubectl, account: str) -> Kubectl:
    """kubectl with the account's token and nothing else (the viewer's kubeconfig names the
    cluster and its CA; --token replaces the viewer's own token)."""
    assert k.ok("create", "sa", account) == f"serviceaccount/{account} created\n"
    token = k.ok("create", "token", account).strip()
    assert token.count(".") == 2  # a JWT
    as_account = Kubectl(k.namespace, kubeconfig=VIEWER_KUBECONFIG)
    as_account.env["PODPLANE_TOKEN"] = token
    return as_account


def with_token(k: Kubectl, *args: str) -> tuple[int, str]:
    result = k.run(f"--token={k.env['PODPLANE_TOKEN']}", *args)
    return result.code, result.out + result.err


def test_a_service_account_token_is_that_account_until_it_is_deleted(k: Kubectl) -> None:
    ns = str(k.namespace)
    robot = token_for(k, "robot")
    code, out = with_token(robot, "auth", "whoami", "-o", "json")
    assert code == 0, out
    user = json.loads(out)["status"]["userInfo"]
    assert user["username"] == f"system:serviceaccount:{ns}:robot"
    assert set(user["groups"]) == {
        "system:serviceaccounts",
        f"system:serviceaccounts:{ns}",
        "system:authenticated",
    }
    code, out = with_token(robot, "get", "pods")
    assert code == 1
    assert out == (
        "Error from server (Forbidden): pods is forbidden: "
        f'User "system:serviceaccount:{ns}:robot" cannot list resource "pods" in API group "" '
        f'in the namespace "{ns}"\n'
    )
    k.ok(
        "create", "rolebinding", "robot-views", "--clusterrole=view", f"--serviceaccount={ns}:robot"
    )

    # The authorizer sees the binding through its watch, as Kubernetes' does through informers.
    def listed() -> tuple[int, str] | None:
        code, out = with_token(robot, "get", "pods")
        return (code, out) if code == 0 else None

    code, out = eventually(listed, timeout=10, what="the binding to take effect", interval=0.2)
    assert (code, out) == (0, f"No resources found in {ns} namespace.\n")
    deleted = k.ok("delete", "sa", "robot")
    assert deleted == f'serviceaccount "robot" deleted from {ns} namespace\n'

    # Its tokens die when the authenticator's cache sees the deletion.
    def refused() -> tuple[int, str] | None:
        code, out = with_token(robot, "get", "pods")
        return (code, out) if code != 0 else None

    code, out = eventually(refused, timeout=10, what="the deletion to take effect", interval=0.2)
    assert code == 1
    assert "error: You must be logged in to the server (Unauthorized)" in out


def test_auth_can_i_answers_for_oneself_and_for_others(k: Kubectl) -> None:
    ns = k.namespace
    assert k.ok("auth", "can-i", "create", "pods") == "yes\n"
    k.ok("create", "sa", "reader")
    k.ok(
        "create",
        "rolebinding",
        "reader-views",
        "--clusterrole=view",
        f"--serviceaccount={ns}:reader",
    )
    account = f"--as=system:serviceaccount:{ns}:reader"
    # The authorizer sees the binding through its watch, as Kubernetes' does through informers.
    eventually(
        lambda: k.run("auth", "can-i", "list", "pods", account).out == "yes\n",
        timeout=10,
        what="the binding to take effect",
        interval=0.2,
    )
    assert k.ok("auth", "can-i", "list", "pods", account) == "yes\n"
    refused = k.run("auth", "can-i", "delete", "pods", account)
    assert (refused.code, refused.out) == (1, "no\n")
    assert k.run("auth", "can-i", "get", "secrets", "--as=viewer").out == "no\n"


def test_impersonation_runs_as_the_user_and_needs_the_verb(k: Kubectl) -> None:
    secrets = Kubectl().run("--as=viewer", "get", "secrets", "-A")
    assert secrets.code == 1
    assert secrets.err == (
        'Error from server (Forbidden): secrets is forbidden: User "viewer" cannot list resource '
        '"secrets" in API group "" at the cluster scope\n'
    )
    viewer = Kubectl(k.namespace, kubeconfig=VIEWER_KUBECONFIG)
    impersonating = viewer.run("--as=kubernetes-admin", "get", "pods")
    assert impersonating.code == 1
    assert impersonating.err == (
        'Error from server (Forbidden): users "kubernetes-admin" is forbidden: User "viewer" '
        'cannot impersonate resource "users" in API group "" at the cluster scope\n'
    )


def test_granting_what_one_does_not_hold_is_refused(k: Kubectl) -> None:
    ns = k.namespace
    k.ok(
        "create",
        "role",
        "role-maker",
        "--verb=create,get",
        "--resource=roles.rbac.authorization.k8s.io",
    )
    k.ok("create", "sa", "maker")
    k.ok(
        "create", "rolebinding", "maker-makes", "--role=role-maker", f"--serviceaccount={ns}:maker"
    )
    maker = Kubectl(ns, kubeconfig=VIEWER_KUBECONFIG)
    maker.env["PODPLANE_TOKEN"] = k.ok("create", "token", "maker").strip()
    can_make = ("auth", "can-i", "create", "roles.rbac.authorization.k8s.io")
    eventually(
        lambda: with_token(maker, *can_make) == (0, "yes\n"),
        timeout=10,
        what="the binding to take effect",
        interval=0.2,
    )
    code, out = with_token(
        maker, "create", "role", "secret-reader", "--verb=get", "--resource=secrets"
    )
    assert code == 1
    assert out.startswith(
        'Error from server (Forbidden): roles.rbac.authorization.k8s.io "secret-reader" is '
        f'forbidden: user "system:serviceaccount:{ns}:maker" (groups=['
    ), out
    assert out.endswith(
        "is attempting to grant RBAC permissions not currently held:\n"
        '{APIGroups:[""], Resources:["secrets"], Verbs:["get"]}\n'
    ), out
