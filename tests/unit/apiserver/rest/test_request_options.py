"""The REST door's options: a list's query and a delete's body or query become the registry's
typed ListOptions and DeleteOptions, and a bad value is refused with the field named."""

from __future__ import annotations

from typing import Any

import pytest

from apiserver.endpoints.rest.handlers import delete_options, list_options
from apiserver.errors import APIError
from apiserver.registry.generic.options import DeleteOptions, ListOptions, Preconditions


def test_a_list_query_is_list_options() -> None:
    query = {
        "labelSelector": "app=web",
        "fieldSelector": "spec.nodeName=node-1",
        "resourceVersion": "42",
        "resourceVersionMatch": "NotOlderThan",
        "limit": "10",
        "continue": "token",
    }
    assert list_options(query) == ListOptions(
        "app=web", "spec.nodeName=node-1", "42", "NotOlderThan", 10, "token"
    )
    assert list_options({}) == ListOptions()


def test_a_list_limit_that_is_no_integer_is_refused() -> None:
    with pytest.raises(APIError, match='limit: Invalid value: "ten": must be an integer'):
        list_options({"limit": "ten"})


@pytest.mark.parametrize(
    ("body", "query", "options"),
    [
        (None, {}, DeleteOptions()),
        (
            {"gracePeriodSeconds": 0, "preconditions": {"uid": "u-1", "resourceVersion": "7"}},
            {},
            DeleteOptions(grace_period_seconds=0, preconditions=Preconditions("u-1", "7")),
        ),
        (None, {"gracePeriodSeconds": "30", "dryRun": "All"}, DeleteOptions(30, dry_run=True)),
        ({"orphanDependents": True}, {}, DeleteOptions(propagation_policy="Orphan")),
        (None, {"orphanDependents": "false"}, DeleteOptions(propagation_policy="Background")),
        (
            {"propagationPolicy": "Foreground", "orphanDependents": True},
            {},
            DeleteOptions(propagation_policy="Foreground"),
        ),
    ],
)
def test_a_delete_body_or_query_is_delete_options(
    body: Any, query: dict[str, str], options: DeleteOptions
) -> None:
    assert delete_options(body, query) == options


@pytest.mark.parametrize(
    ("body", "query", "message"),
    [
        ([], {}, "DeleteOptions: expected an object"),
        ({"gracePeriodSeconds": "soon"}, {}, "DeleteOptions.gracePeriodSeconds: expected integer"),
        ({}, {"gracePeriodSeconds": "soon"}, 'gracePeriodSeconds: Invalid value: "soon"'),
        ({"preconditions": "x"}, {}, "DeleteOptions.preconditions: expected object, got string"),
        ({"dryRun": ["Some"]}, {}, 'dryRun: Unsupported value: "Some"'),
    ],
)
def test_a_bad_delete_option_is_refused_by_name(
    body: Any, query: dict[str, str], message: str
) -> None:
    with pytest.raises(APIError) as raised:
        delete_options(body, query)
    assert raised.value.message.startswith(message)
