"""Impersonation: which headers are read, what the caller must be allowed (the impersonate verb on
users, service accounts, groups, uids and extras, each in Kubernetes' group), the user the
request then runs as, and Kubernetes' words for a refusal."""

from __future__ import annotations

import grpc
import pytest

from apiserver import errors
from apiserver.auth.authorizer import Attributes, Authorizer
from apiserver.auth.impersonation import Impersonation, impersonate, requested
from apiserver.auth.node_authorizer import Decision
from apiserver.auth.user import MASTERS_GROUP, UserInfo

ADMIN = UserInfo("admin", frozenset({MASTERS_GROUP, "system:authenticated"}))
VIEWER = UserInfo("viewer", frozenset({"viewers", "system:authenticated"}))
AUTHORIZER = Authorizer(lambda namespace: [])


def test_headers_are_read_case_insensitively_and_extras_lowered_and_decoded() -> None:
    wanted = requested(
        [
            ("Impersonate-User", "jane"),
            ("Impersonate-Group", "devs"),
            ("impersonate-group", "ops"),
            ("Impersonate-Uid", "1234"),
            ("Impersonate-Extra-Scopes", "view"),
            ("Impersonate-Extra-Scopes", "edit"),
            ("Impersonate-Extra-Example.com%2fteam", "a"),
            ("Authorization", "Bearer x"),
        ]
    )
    assert wanted == Impersonation(
        "jane",
        ("devs", "ops"),
        "1234",
        (("scopes", "view"), ("scopes", "edit"), ("example.com/team", "a")),
    )
    assert not requested([("Accept", "application/json")])


def test_nothing_asked_leaves_the_caller() -> None:
    assert impersonate(VIEWER, Impersonation(), AUTHORIZER.authorize) is VIEWER


def test_a_user_gets_system_authenticated_and_only_the_groups_asked() -> None:
    user = impersonate(ADMIN, Impersonation("viewer"), AUTHORIZER.authorize)
    assert user == UserInfo("viewer", frozenset({"system:authenticated"}))
    with_groups = impersonate(
        ADMIN,
        Impersonation("jane", ("viewers",), "42", (("scopes", "a"), ("scopes", "b"))),
        AUTHORIZER.authorize,
    )
    assert with_groups == UserInfo(
        "jane", frozenset({"viewers", "system:authenticated"}), "42", (("scopes", ("a", "b")),)
    )


def test_a_service_account_comes_with_its_groups() -> None:
    user = impersonate(ADMIN, Impersonation("system:serviceaccount:x:y"), AUTHORIZER.authorize)
    assert user.name == "system:serviceaccount:x:y"
    assert user.groups == {
        "system:serviceaccounts",
        "system:serviceaccounts:x",
        "system:authenticated",
    }


def test_anonymous_is_unauthenticated() -> None:
    user = impersonate(ADMIN, Impersonation("system:anonymous"), AUTHORIZER.authorize)
    assert user.groups == {"system:unauthenticated"}


def test_each_part_is_authorized_as_kubernetes_names_it() -> None:
    asked: list[Attributes] = []

    def record(a: Attributes) -> Decision:
        asked.append(a)
        return Decision(True)

    impersonate(
        VIEWER,
        Impersonation("system:serviceaccount:x:y", ("devs",), "42", (("scopes", "view"),)),
        record,
    )
    assert [
        (a.verb, a.resource, a.subresource, a.namespace, a.name, a.api_group) for a in asked
    ] == [
        ("impersonate", "serviceaccounts", "", "x", "y", ""),
        ("impersonate", "groups", "", "", "devs", ""),
        ("impersonate", "userextras", "scopes", "", "view", "authentication.k8s.io"),
        ("impersonate", "uids", "", "", "42", "authentication.k8s.io"),
    ]
    assert all(a.user is VIEWER for a in asked)


@pytest.mark.parametrize(
    "wanted, message",
    [
        (
            Impersonation("viewer"),
            'users "viewer" is forbidden: User "viewer" cannot impersonate resource "users" '
            'in API group "" at the cluster scope',
        ),
        (
            Impersonation("system:serviceaccount:x:y"),
            'serviceaccounts "y" is forbidden: User "viewer" cannot impersonate resource '
            '"serviceaccounts" in API group "" in the namespace "x"',
        ),
        (
            Impersonation("viewer", uid="42"),
            'users "viewer" is forbidden: User "viewer" cannot impersonate resource "users" '
            'in API group "" at the cluster scope',
        ),
    ],
)
def test_a_caller_without_the_verb_is_refused(wanted: Impersonation, message: str) -> None:
    with pytest.raises(errors.APIError) as refused:
        impersonate(VIEWER, wanted, AUTHORIZER.authorize)
    assert refused.value.code == grpc.StatusCode.PERMISSION_DENIED
    assert refused.value.reason == "Forbidden"
    assert refused.value.message == message


def test_the_refusal_names_the_group_of_a_uid_or_an_extra() -> None:
    def only_users(a: Attributes) -> Decision:
        return Decision(a.resource == "users")

    with pytest.raises(errors.APIError) as refused:
        impersonate(VIEWER, Impersonation("jane", uid="42"), only_users)
    assert refused.value.message == (
        'uids.authentication.k8s.io "42" is forbidden: User "viewer" cannot impersonate '
        'resource "uids" in API group "authentication.k8s.io" at the cluster scope'
    )
    with pytest.raises(errors.APIError) as refused:
        impersonate(VIEWER, Impersonation("jane", extra=(("scopes", "view"),)), only_users)
    assert refused.value.message == (
        'userextras.authentication.k8s.io "view" is forbidden: User "viewer" cannot '
        'impersonate resource "userextras/scopes" in API group "authentication.k8s.io" at the '
        "cluster scope"
    )


@pytest.mark.parametrize(
    "wanted, listed",
    [
        (Impersonation(groups=("devs",)), "[{Group  devs    }]"),
        (Impersonation(uid="42"), "[{UID  42  authentication.k8s.io/v1  }]"),
        (
            Impersonation(extra=(("scopes", "view"),)),
            "[{UserExtra  view  authentication.k8s.io/v1  scopes}]",
        ),
    ],
)
def test_groups_uid_or_extras_without_a_user_are_a_bad_request(
    wanted: Impersonation, listed: str
) -> None:
    with pytest.raises(errors.APIError) as refused:
        impersonate(ADMIN, wanted, AUTHORIZER.authorize)
    assert refused.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert refused.value.message == f"requested {listed} without impersonating a user"
