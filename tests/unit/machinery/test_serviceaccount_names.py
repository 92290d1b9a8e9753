"""A service account's user name and groups, as k8s.io/apiserver's serviceaccount package makes
and splits them."""

from __future__ import annotations

import pytest

from podplane.apimachinery.serviceaccount import make_group_names, make_username, split_username


def test_names_and_groups() -> None:
    assert make_username("kube-system", "replicaset-controller") == (
        "system:serviceaccount:kube-system:replicaset-controller"
    )
    assert make_group_names("web") == ("system:serviceaccounts", "system:serviceaccounts:web")


@pytest.mark.parametrize(
    "user, split",
    [
        ("system:serviceaccount:x:y", ("x", "y")),
        ("system:serviceaccount:kube-system:coredns.v1", ("kube-system", "coredns.v1")),
        ("system:serviceaccount:x", None),
        ("system:serviceaccount:x:y:z", None),
        ("system:serviceaccount:X:y", None),
        ("viewer", None),
    ],
)
def test_a_service_account_user_name_splits(user: str, split: tuple[str, str] | None) -> None:
    assert split_username(user) == split
