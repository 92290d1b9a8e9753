"""The metav1.Table the apiserver answers `kubectl get` with: kind and version, the list's
metadata, column definitions (left out after a watch's first event), one row per object with its
cells, its conditions and as much of the object as includeObject asks for."""

from __future__ import annotations

import json
from typing import Any

import pytest
from google.protobuf import json_format
from google.protobuf.message import Message

from podplane.apimachinery import resources
from podplane.apimachinery.meta import object_meta
from podplane.printers.table import (
    META_V1BETA1,
    IncludeObject,
    UnknownIncludeObject,
    build_table,
    parse_include_object,
)
from tests.unit.machinery.printers.samples import COMPLETED_POD, DEPLOYMENT, NOW, POD, SAMPLES


def encode(msg: Message) -> dict[str, Any]:
    """A stand-in for the apiserver's codec: an object as JSON."""
    encoded: dict[str, Any] = json_format.MessageToDict(msg)
    return encoded


def pods_table(**options: Any) -> dict[str, Any]:
    return build_table(resources.POD, [POD, COMPLETED_POD], encode=encode, now=NOW, **options)


def test_a_list_of_pods() -> None:
    table = pods_table(resource_version="1234", continue_token="next-page")
    assert (table["kind"], table["apiVersion"]) == ("Table", "meta.k8s.io/v1")
    assert table["metadata"] == {"resourceVersion": "1234", "continue": "next-page"}
    assert [c["name"] for c in table["columnDefinitions"]] == [
        "Name",
        "Ready",
        "Status",
        "Restarts",
        "Age",
        "IP",
        "Node",
        "Nominated Node",
        "Readiness Gates",
    ]
    assert table["columnDefinitions"][0] == {
        "name": "Name",
        "type": "string",
        "format": "name",
        "priority": 0,
        "description": table["columnDefinitions"][0]["description"],
    }
    assert [row["cells"] for row in table["rows"]] == [
        [
            "web-1",
            "1/1",
            "Running",
            "2 (4m30s ago)",
            "5m",
            "10.244.1.5",
            "node-1",
            "<none>",
            "<none>",
        ],
        ["once", "0/1", "Completed", "0", "5m", "<none>", "<none>", "<none>", "<none>"],
    ]
    json.dumps(table)  # all of it JSON


def test_a_finished_pods_row_is_completed() -> None:
    running, done = pods_table()["rows"]
    assert "conditions" not in running
    assert done["conditions"] == [
        {
            "type": "Completed",
            "status": "True",
            "reason": "Succeeded",
            "message": "The pod has completed successfully.",
        }
    ]


def test_rows_carry_object_metadata_by_default() -> None:
    row = pods_table()["rows"][0]
    assert row["object"] == {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": encode(POD.metadata),
    }
    # What kubectl --show-labels reads.
    assert row["object"]["metadata"]["labels"] == {"app": "web"}


def test_rows_carry_the_whole_object_with_its_type() -> None:
    table = build_table(
        resources.DEPLOYMENT,
        [DEPLOYMENT],
        encode=encode,
        now=NOW,
        include_object=IncludeObject.OBJECT,
    )
    assert table["rows"][0]["object"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        **encode(DEPLOYMENT),
    }


def test_rows_carry_no_object_when_asked_for_none() -> None:
    rows = pods_table(include_object=IncludeObject.NONE)["rows"]
    assert [row["object"] for row in rows] == [None, None]


def test_watch_events_after_the_first_have_no_column_definitions() -> None:
    table = build_table(
        resources.POD, [POD], encode=encode, now=NOW, no_headers=True, resource_version="43"
    )
    assert table["columnDefinitions"] is None
    assert len(table["rows"]) == 1
    assert table["metadata"] == {"resourceVersion": "43"}


def test_an_empty_list() -> None:
    table = build_table(resources.NODE, [], encode=encode, remaining_item_count=0)
    assert table["rows"] == []
    assert table["metadata"] == {"remainingItemCount": 0}
    assert len(table["columnDefinitions"]) == 10


def test_a_v1beta1_table_holds_v1beta1_metadata() -> None:
    table = pods_table(group_version=META_V1BETA1)
    assert table["apiVersion"] == "meta.k8s.io/v1beta1"
    assert table["rows"][0]["object"]["apiVersion"] == "meta.k8s.io/v1beta1"


@pytest.mark.parametrize("plural", sorted(SAMPLES))
def test_every_kind_has_one_cell_per_column(plural: str) -> None:
    resource, sample = SAMPLES[plural]
    table = build_table(resource, [sample], encode=encode, now=NOW)
    assert len(table["rows"][0]["cells"]) == len(table["columnDefinitions"])
    assert table["rows"][0]["object"]["metadata"]["name"] == object_meta(sample).name


@pytest.mark.parametrize(
    ("value", "include"),
    [
        ("", IncludeObject.METADATA),
        ("None", IncludeObject.NONE),
        ("Metadata", IncludeObject.METADATA),
        ("Object", IncludeObject.OBJECT),
    ],
)
def test_include_object_parameter(value: str, include: IncludeObject) -> None:
    assert parse_include_object(value) is include


def test_an_unknown_include_object_is_a_bad_request() -> None:
    with pytest.raises(UnknownIncludeObject, match=r'^unrecognized includeObject value: "object"$'):
        parse_include_object("object")
