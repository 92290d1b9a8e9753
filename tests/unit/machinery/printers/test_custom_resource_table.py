"""A custom resource's table (tableconvertor.go): NAME then its printer columns, each JSONPath
evaluated and typed as the column says (a date as an age, a string as client-go's JSONPath prints
it, a missing value as null); AGE when it has none; and the JSONPath subset they are written in."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from podplane.api.apiextensions.v1 import apiextensions_pb2
from podplane.api.apiextensions.v1.custom_objects_pb2 import CustomObject
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import jsonpath
from podplane.printers.custom import custom_resource_table

Column = apiextensions_pb2.CustomResourceColumnDefinition
NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


def obj(**content: object) -> CustomObject:
    return CustomObject(
        api_version="g/v1",
        kind="K",
        metadata=meta_pb2.ObjectMeta(name="k", creation_timestamp="2026-01-01T11:55:00Z"),
        content=json.dumps(content),
    )


def test_columns_are_typed_as_they_say() -> None:
    table = custom_resource_table(
        [
            Column(name="Spec", type="string", json_path=".spec.cronSpec"),
            Column(name="Replicas", type="integer", json_path=".spec.replicas"),
            Column(name="Ready", type="boolean", json_path=".status.ready"),
            Column(name="Ratio", type="number", json_path=".status.ratio"),
            Column(name="Map", type="string", json_path=".spec.selector"),
            Column(
                name="Condition",
                type="string",
                json_path='.status.conditions[?(@.type=="Ready")].status',
            ),
            Column(name="Missing", type="string", json_path=".spec.nothing"),
            Column(name="Started", type="date", json_path=".status.started"),
        ]
    )
    assert [c.name for c in table.columns][:3] == ["Name", "Spec", "Replicas"]
    row = table.row(
        obj(
            spec={"cronSpec": "* * * * *", "replicas": 3.0, "selector": {"app": "x"}},
            status={
                "ready": True,
                "ratio": 1,
                "conditions": [
                    {"type": "Other", "status": "x"},
                    {"type": "Ready", "status": "True"},
                ],
                "started": "2026-01-01T10:00:00Z",
            },
        ),
        NOW,
    )
    assert row == ["k", "* * * * *", 3, True, 1.0, '{"app":"x"}', "True", None, "120m"]


def test_no_columns_is_age() -> None:
    table = custom_resource_table([])
    assert [(c.name, c.type) for c in table.columns] == [("Name", "string"), ("Age", "date")]
    assert table.row(obj(), NOW) == ["k", "5m"]


def test_json_paths() -> None:
    data = {"a": {"b": [{"c": 1}, {"c": 2}], "d.e": "dot"}}
    assert jsonpath.find(".a.b[1].c", data) == [2]
    assert jsonpath.find("{.a.b[*].c}", data) == [1, 2]
    assert jsonpath.find(".a['d.e']", data) == ["dot"]
    assert jsonpath.find(".a.b[-1].c", data) == [2]
    assert jsonpath.find(".a.missing", data) == []
    assert jsonpath.find(".a.b[?(@.c>1)].c", data) == [2]
