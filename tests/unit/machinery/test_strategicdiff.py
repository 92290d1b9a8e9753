"""Computing strategic merge patches as kubectl does: the two-way patch (kubectl edit) and the
three-way patch kubectl apply sends, with conflicts when the live object changed a field
differently. The tables' cases are Kubernetes' own (apimachinery's strategicpatch tests, over
their MergeItem test type); each patch is also applied, to check what it yields."""

from __future__ import annotations

from typing import Any

import pytest

from podplane.apimachinery.patch.strategic import strategic_merge_patch
from podplane.apimachinery.patch.strategic_diff import (
    ConflictError,
    create_three_way_merge_patch,
    create_two_way_merge_patch,
    go_deduplicate,
    merging_maps_have_conflicts,
)
from tests.unit.machinery.mergeitem import MERGE_ITEM

TWO_WAY = [
    pytest.param(
        {"name": 1},
        {"value": 1},
        {"value": 1, "name": None},
        {"value": 1},
        id="add one key, delete another",
    ),
    pytest.param(
        {"simpleMap": {"key1": 1, "key2": 1}},
        {"simpleMap": {"key1": 1}},
        {"simpleMap": {"key2": None}},
        {"simpleMap": {"key1": 1}},
        id="deleted nested key becomes null",
    ),
    pytest.param(
        {"nonMergingIntList": [1, 2]},
        {"nonMergingIntList": [2, 3]},
        {"nonMergingIntList": [2, 3]},
        {"nonMergingIntList": [2, 3]},
        id="list without strategy is sent whole",
    ),
    pytest.param(
        {"mergingList": [{"name": 1}, {"name": 2}]},
        {"mergingList": []},
        {"mergingList": [{"name": 1, "$patch": "delete"}, {"name": 2, "$patch": "delete"}]},
        {"mergingList": []},
        id="removed elements become $patch delete",
    ),
    pytest.param(
        {"mergingList": []},
        {"mergingList": []},
        {},
        {"mergingList": []},
        id="equal empty lists: empty patch",
    ),
    pytest.param(
        {"mergingIntList": [1, 2, 3]},
        {"mergingIntList": [1, 2]},
        {"$deleteFromPrimitiveList/mergingIntList": [3], "$setElementOrder/mergingIntList": [1, 2]},
        {"mergingIntList": [1, 2]},
        id="primitive removal: $deleteFromPrimitiveList and order",
    ),
    pytest.param(
        {"mergingIntList": [1, 2, 3]},
        {"mergingIntList": [1, 2, 4]},
        {
            "mergingIntList": [4],
            "$deleteFromPrimitiveList/mergingIntList": [3],
            "$setElementOrder/mergingIntList": [1, 2, 4],
        },
        {"mergingIntList": [1, 2, 4]},
        id="primitive add and remove",
    ),
    pytest.param(
        {"mergingList": [{"name": 1}, {"name": 2, "value": 2}]},
        {
            "mergingList": [
                {"name": 4, "value": 4},
                {"name": 1},
                {"name": 2, "value": 2},
                {"name": 3, "value": 3},
            ]
        },
        {
            "mergingList": [{"name": 4, "value": 4}, {"name": 3, "value": 3}],
            "$setElementOrder/mergingList": [{"name": 4}, {"name": 1}, {"name": 2}, {"name": 3}],
        },
        {
            "mergingList": [
                {"name": 4, "value": 4},
                {"name": 1},
                {"name": 2, "value": 2},
                {"name": 3, "value": 3},
            ]
        },
        id="new elements with $setElementOrder",
    ),
    pytest.param(
        {"mergingList": [{"name": 1}, {"name": 2}]},
        {"mergingList": [{"name": 2}]},
        {
            "mergingList": [{"name": 1, "$patch": "delete"}],
            "$setElementOrder/mergingList": [{"name": 2}],
        },
        {"mergingList": [{"name": 2}]},
        id="element removal with $setElementOrder",
    ),
    pytest.param(
        {"mergingList": [{"name": 1}, {"name": 3, "value": 3}, {"name": 2, "value": 2}]},
        {"mergingList": [{"name": 2, "value": 2}, {"name": 3, "value": "x"}, {"name": 1}]},
        {
            "mergingList": [{"value": "x", "name": 3}],
            "$setElementOrder/mergingList": [{"name": 2}, {"name": 3}, {"name": 1}],
        },
        {"mergingList": [{"name": 2, "value": 2}, {"name": 3, "value": "x"}, {"name": 1}]},
        id="element change keeps merge key",
    ),
    pytest.param(
        {
            "mergingList": [
                {"name": 1},
                {"name": 3, "value": 3},
                {"name": 4, "value": 4},
                {"name": 2, "value": 2},
            ]
        },
        {
            "mergingList": [
                {"name": 4, "value": 4},
                {"name": 2, "value": 2},
                {"name": 3, "value": 3},
                {"name": 1},
            ]
        },
        {"$setElementOrder/mergingList": [{"name": 4}, {"name": 2}, {"name": 3}, {"name": 1}]},
        {
            "mergingList": [
                {"name": 4, "value": 4},
                {"name": 2, "value": 2},
                {"name": 3, "value": 3},
                {"name": 1},
            ]
        },
        id="reorder only: $setElementOrder alone",
    ),
    pytest.param(
        {"retainKeysMap": {"name": "foo"}},
        {"retainKeysMap": {"name": "foo", "value": "bar"}},
        {"retainKeysMap": {"value": "bar", "$retainKeys": ["name", "value"]}},
        {"retainKeysMap": {"name": "foo", "value": "bar"}},
        id="retainKeys field: $retainKeys lists kept keys",
    ),
    pytest.param(
        {"retainKeysMap": {"name": "foo", "value": "bar"}},
        {"retainKeysMap": {"name": "foo"}},
        {"retainKeysMap": {"value": None, "$retainKeys": ["name"]}},
        {"retainKeysMap": {"name": "foo"}},
        id="retainKeys field: deletion with $retainKeys",
    ),
    pytest.param(
        {"retainKeysMergingList": [{"name": "bar"}, {"name": "foo"}]},
        {"retainKeysMergingList": [{"name": "bar"}, {"name": "foo", "value": "a"}]},
        {
            "retainKeysMergingList": [
                {"value": "a", "$retainKeys": ["name", "value"], "name": "foo"}
            ],
            "$setElementOrder/retainKeysMergingList": [{"name": "bar"}, {"name": "foo"}],
        },
        {"retainKeysMergingList": [{"name": "bar"}, {"name": "foo", "value": "a"}]},
        id="merge,retainKeys list: $retainKeys per element",
    ),
    pytest.param(
        {
            "mergingList": [{"name": "a", "value": "a"}, {"name": "b", "value": "b"}],
            "mergeItemPtr": [{"name": "c", "value": "c"}, {"name": "d", "value": "d"}],
        },
        {
            "mergingList": [{"name": "b", "value": "b"}],
            "mergeItemPtr": [{"name": "d", "value": "d"}, {"name": "c", "value": "c"}],
        },
        {
            "mergingList": [{"name": "a", "$patch": "delete"}],
            "$setElementOrder/mergingList": [{"name": "b"}],
            "$setElementOrder/mergeItemPtr": [{"name": "d"}, {"name": "c"}],
        },
        {
            "mergingList": [{"name": "b", "value": "b"}],
            "mergeItemPtr": [{"name": "d", "value": "d"}, {"name": "c", "value": "c"}],
        },
        id="two lists reordered",
    ),
]


@pytest.mark.parametrize(("original", "modified", "patch", "result"), TWO_WAY)
def test_two_way(
    original: dict[str, Any],
    modified: dict[str, Any],
    patch: dict[str, Any],
    result: dict[str, Any],
) -> None:
    assert create_two_way_merge_patch(original, modified, MERGE_ITEM) == patch
    assert strategic_merge_patch(original, patch, MERGE_ITEM) == result


# (last applied, new configuration, live object, patch, live object patched); the ones that say
# "conflict" conflict unless forced, as with kubectl apply --overwrite=false.
THREE_WAY = [
    pytest.param(
        {},
        {"name": 1, "value": 1},
        {"name": 1, "other": "a"},
        {"value": 1},
        {"name": 1, "other": "a", "value": 1},
        id="no last-applied: live-only keys survive",
    ),
    pytest.param(
        {"name": 1},
        {"name": 1, "value": 1},
        {"name": 1, "other": "a"},
        {"value": 1},
        {"name": 1, "other": "a", "value": 1},
        id="added key, live-only key survives",
    ),
    pytest.param(
        {"name": 1},
        {"value": 1},
        {"name": 1, "other": "a"},
        {"name": None, "value": 1},
        {"other": "a", "value": 1},
        id="deletion comes from last-applied",
    ),
    pytest.param(
        {"simpleMap": {"key1": 1, "key2": 1}},
        {"simpleMap": {"key1": 1}},
        {"simpleMap": {"key1": 1, "key2": 1, "other": "a"}},
        {"simpleMap": {"key2": None}},
        {"simpleMap": {"key1": 1, "other": "a"}},
        id="nested deletion, live-only nested key survives",
    ),
    pytest.param(
        {"name": "original-name", "value": "original-value"},
        {"name": "modified-name", "value": None},
        {"name": "original-name", "value": "original-value", "other": "current-other"},
        {"name": "modified-name", "value": None},
        {"name": "modified-name", "other": "current-other"},
        id="explicit null in the configuration deletes",
    ),
    pytest.param(
        {"name": "a", "retainKeysMap": {"name": "foo"}},
        {"name": "a", "value": "b", "retainKeysMap": {"name": "foo"}},
        {"name": "a", "other": "c", "retainKeysMap": {"name": "foo"}},
        {"value": "b"},
        {"name": "a", "other": "c", "retainKeysMap": {"name": "foo"}, "value": "b"},
        id="unchanged retainKeys field is left out",
    ),
    pytest.param(
        {"name": "hi"},
        {
            "name": "hi",
            "mergingList": [{"name": "hello"}, {"$patch": "delete", "name": "doesntexist"}],
        },
        {"name": "hi", "mergingList": [{"name": "hello2"}]},
        {
            "$setElementOrder/mergingList": [{"name": "hello"}, {"name": "doesntexist"}],
            "mergingList": [{"name": "hello"}],
        },
        {"name": "hi", "mergingList": [{"name": "hello"}, {"name": "hello2"}]},
        id="$patch delete in the configuration only orders",
    ),
    pytest.param(
        {"mergingIntList": [1, 2, 3]},
        {"mergingIntList": [1, 2]},
        {"mergingIntList": [1, 2, 3, 4]},
        {"$deleteFromPrimitiveList/mergingIntList": [3], "$setElementOrder/mergingIntList": [1, 2]},
        {"mergingIntList": [1, 2, 4]},
        id="primitive deletion leaves live-only values",
    ),
    pytest.param(
        {"mergingList": [{"name": 1}, {"name": 2, "value": 2}]},
        {
            "mergingList": [
                {"name": 4, "value": 4},
                {"name": 1},
                {"name": 2, "value": 2},
                {"name": 3, "value": 3},
            ]
        },
        {"mergingList": [{"name": 1, "other": "a"}, {"name": 2, "value": 2, "other": "b"}]},
        {
            "$setElementOrder/mergingList": [{"name": 4}, {"name": 1}, {"name": 2}, {"name": 3}],
            "mergingList": [{"name": 4, "value": 4}, {"name": 3, "value": 3}],
        },
        {
            "mergingList": [
                {"name": 4, "value": 4},
                {"name": 1, "other": "a"},
                {"name": 2, "value": 2, "other": "b"},
                {"name": 3, "value": 3},
            ]
        },
        id="additions merge with live-only fields",
    ),
    pytest.param(
        {"mergingList": [{"name": 1}, {"name": 2, "value": 2}]},
        {"mergingList": [{"name": 1, "value": 1}, {"name": 2, "value": 2}]},
        {"mergingList": [{"name": 1, "other": "a"}, {"name": 2, "value": 2, "other": "b"}]},
        {
            "$setElementOrder/mergingList": [{"name": 1}, {"name": 2}],
            "mergingList": [{"value": 1, "name": 1}],
        },
        {
            "mergingList": [
                {"name": 1, "other": "a", "value": 1},
                {"name": 2, "value": 2, "other": "b"},
            ]
        },
        id="element field added, live-only fields survive",
    ),
    pytest.param(
        {"mergingList": [{"name": 1}, {"name": 2, "value": 2}]},
        {"mergingList": [{"name": 1, "value": 1}, {"name": 2, "value": 2}]},
        {
            "mergingList": [
                {"name": 1, "value": 1, "other": "a"},
                {"name": 2, "value": 2, "other": "b"},
            ]
        },
        {},
        {
            "mergingList": [
                {"name": 1, "value": 1, "other": "a"},
                {"name": 2, "value": 2, "other": "b"},
            ]
        },
        id="live already matches: empty patch",
    ),
    pytest.param(
        {"mergingList": [{"name": 1}, {"name": 2}]},
        {"mergingList": [{"name": 2}]},
        {"mergingList": [{"name": 1}, {"name": 2, "other": "b"}]},
        {
            "mergingList": [{"name": 1, "$patch": "delete"}],
            "$setElementOrder/mergingList": [{"name": 2}],
        },
        {"mergingList": [{"name": 2, "other": "b"}]},
        id="element deleted from last-applied",
    ),
    pytest.param(
        {"mergingList": [{"name": 1}, {"name": 2}]},
        {"mergingList": [{"name": 2}]},
        {"mergingList": [{"name": 2, "other": "b"}]},
        {
            "mergingList": [{"name": 1, "$patch": "delete"}],
            "$setElementOrder/mergingList": [{"name": 2}],
        },
        {"mergingList": [{"name": 2, "other": "b"}]},
        id="element already gone from the live list",
    ),
    pytest.param(
        {"mergingList": [{"name": 1}, {"name": 2}]},
        {"mergingList": [{"name": 2}, {"name": 3}]},
        {"mergingList": [{"name": 1}, {"name": 2, "other": "b"}, {"name": 4, "other": "c"}]},
        {
            "mergingList": [{"name": 3}, {"name": 1, "$patch": "delete"}],
            "$setElementOrder/mergingList": [{"name": 2}, {"name": 3}],
        },
        {"mergingList": [{"name": 2, "other": "b"}, {"name": 4, "other": "c"}, {"name": 3}]},
        id="add and delete beside a live-only element",
    ),
    pytest.param(
        {"mergingIntList": [1, 2]},
        {"mergingIntList": [3, 1, 2]},
        {"mergingIntList": [1, 4, 2]},
        {"$setElementOrder/mergingIntList": [3, 1, 2], "mergingIntList": [3]},
        {"mergingIntList": [3, 1, 4, 2]},
        id="primitive addition in order",
    ),
    pytest.param(
        {
            "mergingList": [
                {"name": 1},
                {"name": 3, "value": 3},
                {"name": 4, "value": 4},
                {"name": 2, "value": 2},
            ]
        },
        {
            "mergingList": [
                {"name": 4, "value": 4},
                {"name": 2, "value": 2},
                {"name": 3, "value": 3},
                {"name": 1},
            ]
        },
        {
            "mergingList": [
                {"name": 1, "other": "a"},
                {"name": 3, "value": 3},
                {"name": 4, "value": 4},
                {"name": 2, "value": 2},
                {"name": 9},
            ]
        },
        {"$setElementOrder/mergingList": [{"name": 4}, {"name": 2}, {"name": 3}, {"name": 1}]},
        {
            "mergingList": [
                {"name": 4, "value": 4},
                {"name": 2, "value": 2},
                {"name": 3, "value": 3},
                {"name": 1, "other": "a"},
                {"name": 9},
            ]
        },
        id="reorder around a live-only element",
    ),
    pytest.param(
        {},
        {"retainKeysMap": {"other": "bar"}},
        {"retainKeysMap": {"value": "foo"}},
        {"retainKeysMap": {"other": "bar", "$retainKeys": ["other"]}},
        {"retainKeysMap": {"other": "bar"}},
        id="retainKeys clears a server default",
    ),
    pytest.param(
        {},
        {"retainKeysMap": {"name": "type2", "other": "bar"}},
        {"retainKeysMap": {"name": "type1", "value": "foo"}},
        {"retainKeysMap": {"name": "type2", "other": "bar", "$retainKeys": ["name", "other"]}},
        {"retainKeysMap": {"name": "type2", "other": "bar"}},
        id="conflict forced: retainKeys switches a union",
    ),
    pytest.param(
        {"retainKeysMergingList": [{"name": "bar"}, {"name": "foo", "value": "a"}]},
        {"retainKeysMergingList": [{"name": "bar"}, {"name": "foo", "value": "a"}]},
        {"retainKeysMergingList": [{"name": "bar"}, {"name": "foo", "value": "a", "other": "x"}]},
        {
            "$setElementOrder/retainKeysMergingList": [{"name": "bar"}, {"name": "foo"}],
            "retainKeysMergingList": [{"$retainKeys": ["name", "value"], "name": "foo"}],
        },
        {"retainKeysMergingList": [{"name": "bar"}, {"name": "foo", "value": "a"}]},
        id="merge,retainKeys list clears a live-only field",
    ),
    pytest.param(
        {
            "mergingList": [
                {"name": 1, "nonMergingList": [{"name": 1}, {"name": 2, "value": 2}]},
                {"name": 2},
            ]
        },
        {"mergingList": [{"name": 1, "nonMergingList": [{"name": 1, "value": 1}]}, {"name": 2}]},
        {
            "mergingList": [
                {"name": 1, "other": "a", "nonMergingList": [{"name": 1}, {"name": 2, "value": 2}]},
                {"name": 2, "other": "b"},
            ]
        },
        {
            "$setElementOrder/mergingList": [{"name": 1}, {"name": 2}],
            "mergingList": [{"nonMergingList": [{"name": 1, "value": 1}], "name": 1}],
        },
        {
            "mergingList": [
                {"name": 1, "other": "a", "nonMergingList": [{"name": 1, "value": 1}]},
                {"name": 2, "other": "b"},
            ]
        },
        id="nested replaced list sent whole",
    ),
    pytest.param(
        {"name": 1},
        {"name": 1, "value": 1},
        {"name": "a", "other": "a"},
        {"name": 1, "value": 1},
        {"name": 1, "other": "a", "value": 1},
        id="conflict: key changed on the live object",
    ),
    pytest.param(
        {"name": 1, "value": 1},
        {},
        {"name": 1, "value": "a", "other": "a"},
        {"name": None, "value": None},
        {"other": "a"},
        id="conflict: deleted key changed on the live object",
    ),
    pytest.param(
        {"mergingList": [{"name": 1, "value": 1}, {"name": 2, "value": 2}]},
        {"mergingList": [{"name": 1, "value": "a"}, {"name": 2, "value": 2}]},
        {
            "mergingList": [
                {"name": 1, "value": 3, "other": "a"},
                {"name": 2, "value": 2, "other": "b"},
            ]
        },
        {
            "$setElementOrder/mergingList": [{"name": 1}, {"name": 2}],
            "mergingList": [{"value": "a", "name": 1}],
        },
        {
            "mergingList": [
                {"name": 1, "value": "a", "other": "a"},
                {"name": 2, "value": 2, "other": "b"},
            ]
        },
        id="conflict: element field changed on the live object",
    ),
    pytest.param(
        {"mergingList": [{"name": 1}, {"name": 2, "value": 2}]},
        {"mergingList": [{"name": 1}, {"name": 2, "value": 2}, {"name": 3, "value": 3}]},
        {"mergingList": [{"name": 1, "other": "a"}, {"name": 2, "value": 3, "other": "b"}]},
        {
            "$setElementOrder/mergingList": [{"name": 1}, {"name": 2}, {"name": 3}],
            "mergingList": [{"value": 2, "name": 2}, {"name": 3, "value": 3}],
        },
        {
            "mergingList": [
                {"name": 1, "other": "a"},
                {"name": 2, "value": 2, "other": "b"},
                {"name": 3, "value": 3},
            ]
        },
        id="conflict: element changed on the live object",
    ),
    pytest.param(
        {"nonMergingIntList": [1, 2]},
        {"nonMergingIntList": [2, 3]},
        {"nonMergingIntList": [1, 4]},
        {"nonMergingIntList": [2, 3]},
        {"nonMergingIntList": [2, 3]},
        id="conflict: replaced list changed on the live object",
    ),
]


@pytest.mark.parametrize(("original", "modified", "current", "patch", "result"), THREE_WAY)
def test_three_way(
    original: dict[str, Any],
    modified: dict[str, Any],
    current: dict[str, Any],
    patch: dict[str, Any],
    result: dict[str, Any],
    request: pytest.FixtureRequest,
) -> None:
    if "conflict" in request.node.callspec.id:
        with pytest.raises(ConflictError) as caught:
            create_three_way_merge_patch(original, modified, current, MERGE_ITEM)
        assert "conflicts with changes made from original to current" in caught.value.message
    assert create_three_way_merge_patch(original, modified, current, MERGE_ITEM, True) == patch
    assert strategic_merge_patch(current, patch, MERGE_ITEM) == result


# Keys the schema does not know (Kubernetes' TestUnknownField): their maps are diffed, lists sent
# whole, and nulls inside new values dropped when applied.
UNKNOWN_FIELDS = [
    pytest.param(
        {"name": "foo", "complex": {"nested": True}, "array": [1, 2, 3]},
        {"name": "foo", "complex": {"nested": False}, "array": [1, 2, 3, 4]},
        {"complex": {"nested": False}, "array": [1, 2, 3, 4]},
        {"name": "foo", "complex": {"nested": False}, "array": [1, 2, 3, 4]},
        id="changed",
    ),
    pytest.param(
        {"name": "foo"},
        {"name": "foo", "complex_nullable": {"key": {"keynotnull": "value", "keynull": None}}},
        {"complex_nullable": {"key": {"keynotnull": "value", "keynull": None}}},
        {"name": "foo", "complex_nullable": {"key": {"keynotnull": "value"}}},
        id="nulls in a new value",
    ),
    pytest.param(
        {},
        {"complex_nullable": [{"inner_one": {"key_one": "foo", "key_two": None}}]},
        {"complex_nullable": [{"inner_one": {"key_one": "foo", "key_two": None}}]},
        {"complex_nullable": [{"inner_one": {"key_one": "foo"}}]},
        id="nulls in a new list's maps",
    ),
    pytest.param(
        {},
        {"complex_nullable": ["key1", None, "key2"]},
        {"complex_nullable": ["key1", None, "key2"]},
        {"complex_nullable": ["key1", None, "key2"]},
        id="nulls in a primitive list kept",
    ),
    pytest.param(
        {"thing": None, "complex": {"key": None}},
        {"thing": None, "complex": {"key": None}, "nested": {"value": 5}},
        {"nested": {"value": 5}},
        {"thing": None, "complex": {"key": None}, "nested": {"value": 5}},
        id="nulls in the original kept",
    ),
    pytest.param(
        {"name": "foo", "scalar": True, "complex": {"nested": True}},
        {"name": "foo"},
        {"complex": None, "scalar": None},
        {"name": "foo"},
        id="removed",
    ),
    pytest.param(
        {"int64": 9223372036854775807, "float64": 1.7976931348623157e308},
        {"int64": 9223372036854775807, "float64": 1.7976931348623157e308, "name": "new"},
        {"name": "new"},
        {"int64": 9223372036854775807, "float64": 1.7976931348623157e308, "name": "new"},
        id="large numbers compare exactly",
    ),
]


@pytest.mark.parametrize(("original", "modified", "patch", "result"), UNKNOWN_FIELDS)
def test_unknown_fields(
    original: dict[str, Any],
    modified: dict[str, Any],
    patch: dict[str, Any],
    result: dict[str, Any],
) -> None:
    assert create_two_way_merge_patch(original, modified, MERGE_ITEM) == patch
    assert strategic_merge_patch(original, patch, MERGE_ITEM) == result
    assert create_three_way_merge_patch(original, modified, original, MERGE_ITEM) == patch


@pytest.mark.parametrize(
    ("left", "right", "conflict"),
    [
        ({"name": "a"}, {"name": "a"}, False),
        ({"name": "a"}, {"name": "b"}, True),
        ({"name": "a"}, {"value": "b"}, False),
        ({"mergingIntList": [1]}, {"mergingIntList": [2]}, False),
        ({"nonMergingIntList": [1, 2]}, {"nonMergingIntList": [2, 1]}, False),
        ({"nonMergingIntList": [1]}, {"nonMergingIntList": [2]}, True),
        ({"mergingList": [{"name": 1, "value": "a"}]}, {"mergingList": [{"name": 2}]}, False),
        ({"mergingList": [{"name": 1, "value": "a"}]}, {"mergingList": [{"name": 1}]}, False),
        (
            {"mergingList": [{"name": 1, "value": "a"}]},
            {"mergingList": [{"name": 1, "value": "b"}]},
            True,
        ),
        ({"simpleMap": {"$patch": "delete"}}, {"simpleMap": {"a": "1"}}, True),
        ({"replacingItem": {"a": 1}}, {"replacingItem": {"a": 2}}, False),
    ],
)
def test_conflicts(left: dict[str, Any], right: dict[str, Any], conflict: bool) -> None:
    assert merging_maps_have_conflicts(left, right, MERGE_ITEM) is conflict
    assert merging_maps_have_conflicts(right, left, MERGE_ITEM) is conflict


def test_three_way_without_last_applied_adds_and_keeps_live_fields() -> None:
    patch = create_three_way_merge_patch(
        None, {"name": "a", "value": "v"}, {"name": "a", "other": "o"}, MERGE_ITEM
    )
    assert patch == {"value": "v"}


def test_deduplicate_moves_the_last_element_into_a_duplicates_place() -> None:
    # The order kubectl's $deleteFromPrimitiveList lists come out in.
    assert go_deduplicate(["a", "a", "b", "c"]) == ["a", "c", "b"]
    assert go_deduplicate([1, 1, 1]) == [1]
