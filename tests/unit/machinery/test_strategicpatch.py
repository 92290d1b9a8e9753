"""Strategic merge patch as the apiserver applies it: lists merged by merge key or as sets,
directives ($patch, $deleteFromPrimitiveList, $setElementOrder, $retainKeys), null deletion and
Kubernetes' errors. The table's cases are Kubernetes' own (apimachinery's strategicpatch tests,
over their MergeItem test type), each as (original, patch, expected result)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from podplane.apimachinery.patch.mergepatch import PatchError
from podplane.apimachinery.patch.strategic import strategic_merge_patch
from tests.unit.machinery.mergeitem import MERGE_ITEM

KUBERNETES_CASES = [
    pytest.param(
        {"mergingIntList": [1, 2]},
        {"mergingIntList": [2, 3]},
        {"mergingIntList": [1, 2, 3]},
        id="primitive merge list: union without duplicates",
    ),
    pytest.param(
        {"simpleMap": {"key1": 1, "key2": 1}},
        {"simpleMap": {"$patch": "delete"}},
        {"simpleMap": {}},
        id="$patch delete on a map clears it",
    ),
    pytest.param(
        {"mergingList": [{"name": 1}, {"name": 2}]},
        {"mergingList": [{"$patch": "replace"}]},
        {"mergingList": []},
        id="$patch replace alone in a merged list empties it",
    ),
    pytest.param(
        {"mergingList": []},
        {"mergingList": []},
        {"mergingList": []},
        id="empty merged lists stay empty",
    ),
    pytest.param(
        {"name": 1, "value": 1},
        {"$patch": "replace"},
        {},
        id="$patch replace on the object replaces it",
    ),
    pytest.param(
        {"name": 1, "value": 1},
        {"other": "a", "$patch": "replace"},
        {"other": "a"},
        id="$patch replace keeps only the patch's keys",
    ),
    pytest.param(
        {
            "mergingList": [
                {"name": 1},
                {"name": 1},
                {"name": 2, "value": "a"},
                {"name": 3},
                {"name": 3},
            ]
        },
        {"mergingList": [{"name": 1, "$patch": "delete"}, {"name": 3, "$patch": "delete"}]},
        {"mergingList": [{"name": 2, "value": "a"}]},
        id="$patch delete removes every element with the key",
    ),
    pytest.param(
        {"retainKeysMap": {"name": "foo", "value": "a"}},
        {"retainKeysMap": {"value": None}},
        {"retainKeysMap": {"name": "foo"}},
        id="retainKeys field without the directive merges",
    ),
    pytest.param(
        {"retainKeysMap": {"name": "foo", "value": "a"}},
        {"retainKeysMap": {}},
        {"retainKeysMap": {"name": "foo", "value": "a"}},
        id="retainKeys field: empty patch changes nothing",
    ),
    pytest.param(
        {"retainKeysMergingList": [{"name": "bar"}, {"name": "foo", "value": "a"}]},
        {"retainKeysMergingList": [{"name": "foo", "value": "b"}]},
        {"retainKeysMergingList": [{"name": "bar"}, {"name": "foo", "value": "b"}]},
        id="merge,retainKeys list without the directive merges",
    ),
    pytest.param(
        {"mergingList": [{"name": 1}, {"name": 2, "value": "b"}, {"name": 3}]},
        {
            "mergingList": [
                {"name": 3, "value": "c"},
                {"name": 1, "value": "a"},
                {"name": 2, "other": "x"},
            ]
        },
        {
            "mergingList": [
                {"name": 3, "value": "c"},
                {"name": 1, "value": "a"},
                {"name": 2, "value": "b", "other": "x"},
            ]
        },
        id="merged list takes the patch's order",
    ),
    pytest.param(
        {"mergingList": [{"name": 1}, {"name": 2, "value": "b"}, {"name": 3}]},
        {"mergingList": [{"name": 3, "value": "c"}, {"name": 1, "value": "a"}]},
        {
            "mergingList": [
                {"name": 2, "value": "b"},
                {"name": 3, "value": "c"},
                {"name": 1, "value": "a"},
            ]
        },
        id="original-only elements are woven in before the patch's",
    ),
    pytest.param(
        {"mergingIntList": [1, 2, 3]},
        {"mergingIntList": [3, 1, 2]},
        {"mergingIntList": [3, 1, 2]},
        id="primitive merge list takes the patch's order",
    ),
    pytest.param(
        {},
        {"name": 1, "value": 1},
        {"name": 1, "value": 1},
        id="patch onto an empty object",
    ),
    pytest.param(
        {"name": 1, "other": "a"},
        {"value": 1},
        {"name": 1, "other": "a", "value": 1},
        id="add a key, keep the others",
    ),
    pytest.param(
        {"name": 1},
        {"name": None, "value": 1},
        {"value": 1},
        id="null deletes a key",
    ),
    pytest.param(
        {"simpleMap": {"key1": 1, "key2": 1, "other": "a"}},
        {"simpleMap": {"key2": None}},
        {"simpleMap": {"key1": 1, "other": "a"}},
        id="null deletes a key of a nested map",
    ),
    pytest.param(
        {"name": 1, "value": 1, "other": "a"},
        {"name": None, "value": None},
        {"other": "a"},
        id="nulls delete every listed key",
    ),
    pytest.param(
        {"nonMergingIntList": [1, 2]},
        {"nonMergingIntList": [2, 3]},
        {"nonMergingIntList": [2, 3]},
        id="list without strategy is replaced",
    ),
    pytest.param(
        {"mergingList": [{"name": 1}, {"name": 2}]},
        {"mergingList": [{"name": 1, "$patch": "delete"}, {"name": 2, "$patch": "delete"}]},
        {"mergingList": []},
        id="$patch delete for every element empties the list",
    ),
    pytest.param(
        {"mergingList": []},
        {"mergingList": [{"name": 1, "$patch": "delete"}, {"name": 2, "$patch": "delete"}]},
        {"mergingList": []},
        id="$patch delete of absent elements is a no-op",
    ),
    pytest.param(
        {"name": 2},
        {"name": 1, "value": 1, "other": None},
        {"name": 1, "value": 1},
        id="null for a missing key is dropped",
    ),
    pytest.param(
        {"name": "original-name", "value": "original-value", "other": "current-other"},
        {"name": "modified-name", "value": None},
        {"name": "modified-name", "other": "current-other"},
        id="null removes, other live keys stay",
    ),
    pytest.param(
        {"mergingList": [{"name": 1}, {"name": 3}]},
        {
            "$setElementOrder/mergingList": [{"name": 3}, {"name": 2}, {"name": 1}],
            "mergingList": [{"name": 3, "value": 3}, {"name": 1, "value": 1}],
        },
        {"mergingList": [{"name": 3, "value": 3}, {"name": 1, "value": 1}]},
        id="$setElementOrder may name absent elements",
    ),
    pytest.param(
        {"mergingIntList": [1, 3]},
        {"$setElementOrder/mergingIntList": [3, 2, 1]},
        {"mergingIntList": [3, 1]},
        id="$setElementOrder alone reorders a primitive list",
    ),
    pytest.param(
        {"mergingIntList": [1, 2]},
        {"$deleteFromPrimitiveList/mergingIntList": [3]},
        {"mergingIntList": [1, 2]},
        id="$deleteFromPrimitiveList of an absent value",
    ),
    pytest.param(
        {"mergingIntList": None},
        {"$deleteFromPrimitiveList/mergingIntList": [3]},
        {"mergingIntList": None},
        id="$deleteFromPrimitiveList on a null list",
    ),
    pytest.param(
        {"foo": ["bar"]},
        {"$deleteFromPrimitiveList/mergingIntList": [3]},
        {"foo": ["bar"]},
        id="$deleteFromPrimitiveList on a missing list",
    ),
    pytest.param(
        {"mergingIntList": [1, 2, 3]},
        {"$deleteFromPrimitiveList/mergingIntList": [2]},
        {"mergingIntList": [1, 3]},
        id="$deleteFromPrimitiveList on a merged list",
    ),
    pytest.param(
        {"nonMergingIntList": [1, 2, 3]},
        {"$deleteFromPrimitiveList/nonMergingIntList": [2]},
        {"nonMergingIntList": [1, 3]},
        id="$deleteFromPrimitiveList on a replaced list",
    ),
    pytest.param(
        {"name": "hi"},
        {"mergingList": [{"name": "hello"}, {"$patch": "delete", "name": "doesntexist"}]},
        {"name": "hi", "mergingList": [{"name": "hello"}]},
        id="new merged list: $patch delete elements dropped",
    ),
    pytest.param(
        {"name": "hi", "mergingList": [{"name": "hello2"}]},
        {
            "$setElementOrder/mergingList": [{"name": "hello"}, {"name": "doesntexist"}],
            "mergingList": [{"name": "hello"}],
        },
        {"name": "hi", "mergingList": [{"name": "hello"}, {"name": "hello2"}]},
        id="$setElementOrder names an element the patch deletes",
    ),
    pytest.param(
        {"mergingIntList": [1, 2, 3, 4]},
        {"$setElementOrder/mergingIntList": [1, 2], "$deleteFromPrimitiveList/mergingIntList": [3]},
        {"mergingIntList": [1, 2, 4]},
        id="$deleteFromPrimitiveList keeps live-only values",
    ),
    pytest.param(
        {"mergingIntList": [1, 2, 3, 3, 4]},
        {"$setElementOrder/mergingIntList": [1, 2], "$deleteFromPrimitiveList/mergingIntList": [3]},
        {"mergingIntList": [1, 2, 4]},
        id="$deleteFromPrimitiveList removes duplicates too",
    ),
    pytest.param(
        {"mergingIntList": [1, 2, 3]},
        {
            "$setElementOrder/mergingIntList": [1, 2, 4],
            "$deleteFromPrimitiveList/mergingIntList": [3],
            "mergingIntList": [4],
        },
        {"mergingIntList": [1, 2, 4]},
        id="primitive list: add and delete in one patch",
    ),
    pytest.param(
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
        id="merge by name: new elements placed by $setElementOrder",
    ),
    pytest.param(
        {"mergingList": [{"name": 1, "other": "a"}, {"name": 2, "value": 3, "other": "b"}]},
        {
            "$setElementOrder/mergingList": [{"name": 1}, {"name": 2}, {"name": 3}],
            "mergingList": [{"name": 2, "value": 2}, {"name": 3, "value": 3}],
        },
        {
            "mergingList": [
                {"name": 1, "other": "a"},
                {"name": 2, "value": 2, "other": "b"},
                {"name": 3, "value": 3},
            ]
        },
        id="merge by name: changed element keeps live keys",
    ),
    pytest.param(
        {"mergingList": [{"name": 1, "other": "a"}, {"name": 2, "value": 2, "other": "b"}]},
        {
            "$setElementOrder/mergingList": [{"name": 1}, {"name": 2}],
            "mergingList": [{"name": 1, "value": 1}],
        },
        {
            "mergingList": [
                {"name": 1, "value": 1, "other": "a"},
                {"name": 2, "value": 2, "other": "b"},
            ]
        },
        id="merge by name: add a field to one element",
    ),
    pytest.param(
        {"mergingList": [{"name": 1, "other": "a"}, {"name": 3, "value": 2, "other": "b"}]},
        {
            "$setElementOrder/mergingList": [{"name": 1}, {"name": 2}],
            "mergingList": [{"name": 1, "value": 1}, {"name": 2, "value": 2}],
        },
        {
            "mergingList": [
                {"name": 1, "value": 1, "other": "a"},
                {"name": 2, "value": 2},
                {"name": 3, "value": 2, "other": "b"},
            ]
        },
        id="merge by name: live-only element stays after the patch's",
    ),
    pytest.param(
        {"mergingList": [{"name": 1, "value": "a"}, {"name": 2}]},
        {
            "$setElementOrder/mergingList": [{"name": 1}, {"name": 2}, {"name": 3}],
            "mergingList": [{"name": 3}],
        },
        {"mergingList": [{"name": 1, "value": "a"}, {"name": 2}, {"name": 3}]},
        id="merge by name: adding an existing element merges it",
    ),
    pytest.param(
        {
            "mergingList": [
                {"name": 1, "value": 1, "other": "a"},
                {"name": 2, "value": 2, "other": "b"},
            ]
        },
        {
            "$setElementOrder/mergingList": [{"name": 1}, {"name": 2}],
            "mergingList": [{"name": 1, "value": "a"}],
        },
        {
            "mergingList": [
                {"name": 1, "value": "a", "other": "a"},
                {"name": 2, "value": 2, "other": "b"},
            ]
        },
        id="merge by name: change a field of one element",
    ),
    pytest.param(
        {"mergingList": [{"name": 1}, {"name": 2, "other": "b"}]},
        {
            "$setElementOrder/mergingList": [{"name": 2}],
            "mergingList": [{"name": 1, "$patch": "delete"}],
        },
        {"mergingList": [{"name": 2, "other": "b"}]},
        id="merge by name: $patch delete one element",
    ),
    pytest.param(
        {"mergingList": [{"name": 2, "other": "b"}]},
        {
            "$setElementOrder/mergingList": [{"name": 2}],
            "mergingList": [{"name": 1, "$patch": "delete"}],
        },
        {"mergingList": [{"name": 2, "other": "b"}]},
        id="merge by name: $patch delete of an absent element",
    ),
    pytest.param(
        {"mergingList": [{"name": 1}, {"name": 2, "other": "b"}, {"name": 4, "other": "c"}]},
        {
            "$setElementOrder/mergingList": [{"name": 2}, {"name": 3}],
            "mergingList": [{"name": 3}, {"name": 1, "$patch": "delete"}],
        },
        {"mergingList": [{"name": 2, "other": "b"}, {"name": 4, "other": "c"}, {"name": 3}]},
        id="merge by name: add one, delete one, live-only kept in place",
    ),
    pytest.param(
        {"mergingList": [{"name": 1, "other": "a"}, {"name": 4, "other": "c"}]},
        {
            "$setElementOrder/mergingList": [{"name": 2}, {"name": 3}],
            "mergingList": [{"name": 2}, {"name": 3}, {"name": 1, "$patch": "delete"}],
        },
        {"mergingList": [{"name": 4, "other": "c"}, {"name": 2}, {"name": 3}]},
        id="merge by name: deleted element's slot goes to the added one",
    ),
    pytest.param(
        {
            "mergingList": [
                {"name": 1, "value": 1, "other": "a"},
                {"name": 2, "value": 2, "other": "b"},
            ]
        },
        {
            "$setElementOrder/mergingList": [{"name": 1}, {"name": 2}],
            "mergingList": [{"name": 1, "value": None}],
        },
        {"mergingList": [{"name": 1, "other": "a"}, {"name": 2, "value": 2, "other": "b"}]},
        id="merge by name: null deletes a field of an element",
    ),
    pytest.param(
        {"mergingList": [{"name": 1, "other": "a"}, {"name": 2, "value": 2, "other": "b"}]},
        {
            "$setElementOrder/mergingList": [{"name": 1}, {"name": 2}],
            "mergingList": [{"name": 1, "value": None}],
        },
        {"mergingList": [{"name": 1, "other": "a"}, {"name": 2, "value": 2, "other": "b"}]},
        id="merge by name: null for an absent field of an element",
    ),
    pytest.param(
        {
            "mergingList": [
                {"name": 1, "other": "a", "nonMergingList": [{"name": 1}, {"name": 2, "value": 2}]},
                {"name": 2, "other": "b"},
            ]
        },
        {
            "$setElementOrder/mergingList": [{"name": 1}, {"name": 2}],
            "mergingList": [{"name": 1, "nonMergingList": [{"name": 1, "value": 1}]}],
        },
        {
            "mergingList": [
                {"name": 1, "other": "a", "nonMergingList": [{"name": 1, "value": 1}]},
                {"name": 2, "other": "b"},
            ]
        },
        id="list without strategy inside a merged element is replaced",
    ),
    pytest.param(
        {
            "mergingList": [
                {"name": 1, "other": "a", "mergingList": [{"name": 1}, {"name": 2, "value": 2}]},
                {"name": 2, "other": "b"},
            ]
        },
        {
            "$setElementOrder/mergingList": [{"name": 1}, {"name": 2}],
            "mergingList": [
                {
                    "$setElementOrder/mergingList": [{"name": 1}, {"name": 2}],
                    "name": 1,
                    "mergingList": [{"name": 1, "value": 1}],
                }
            ],
        },
        {
            "mergingList": [
                {
                    "name": 1,
                    "other": "a",
                    "mergingList": [{"name": 1, "value": 1}, {"name": 2, "value": 2}],
                },
                {"name": 2, "other": "b"},
            ]
        },
        id="merge by name two levels deep",
    ),
    pytest.param(
        {"mergeItemPtr": [{"name": 1, "other": "a"}, {"name": 3}]},
        {
            "$setElementOrder/mergeItemPtr": [{"name": 1}, {"name": 2}],
            "mergeItemPtr": [{"name": 2}],
        },
        {"mergeItemPtr": [{"name": 1, "other": "a"}, {"name": 2}, {"name": 3}]},
        id="merged list under a pointer field",
    ),
    pytest.param(
        {"mergingIntList": [1, 2, 4]},
        {"$setElementOrder/mergingIntList": [1, 2, 3], "mergingIntList": [3]},
        {"mergingIntList": [1, 2, 3, 4]},
        id="primitive merge list keeps live-only values",
    ),
    pytest.param(
        {"mergingIntList": [1, 4, 2]},
        {"$setElementOrder/mergingIntList": [3, 1, 2], "mergingIntList": [3]},
        {"mergingIntList": [3, 1, 4, 2]},
        id="primitive merge list: add keeps the configured order",
    ),
    pytest.param(
        {"mergingIntList": [1, 2, 3]},
        {"$setElementOrder/mergingIntList": [2, 1], "$deleteFromPrimitiveList/mergingIntList": [3]},
        {"mergingIntList": [2, 1]},
        id="primitive merge list: delete keeps the order",
    ),
    pytest.param(
        {"mergingList": [{"name": 1, "other": "a"}, {"name": 2, "value": 2, "other": "b"}]},
        {
            "$setElementOrder/mergingList": [{"name": 1}, {"name": 4}, {"name": 2}, {"name": 3}],
            "mergingList": [{"name": 4, "value": 4}, {"name": 3, "value": 3}],
        },
        {
            "mergingList": [
                {"name": 1, "other": "a"},
                {"name": 4, "value": 4},
                {"name": 2, "value": 2, "other": "b"},
                {"name": 3, "value": 3},
            ]
        },
        id="merge by name: several additions in the configured order",
    ),
    pytest.param(
        {
            "mergingList": [
                {"name": 1, "other": "a"},
                {"name": 2, "value": 2, "other": "b"},
                {"name": 3, "value": 3},
            ]
        },
        {
            "$setElementOrder/mergingList": [{"name": 2}, {"name": 1}],
            "mergingList": [{"name": 3, "$patch": "delete"}],
        },
        {"mergingList": [{"name": 2, "value": 2, "other": "b"}, {"name": 1, "other": "a"}]},
        id="merge by name: delete keeps the order",
    ),
    pytest.param(
        {
            "mergingList": [
                {"name": 1, "other": "a"},
                {"name": 2, "value": 2, "other": "b"},
                {"name": 3, "value": 3},
            ]
        },
        {
            "$setElementOrder/mergingList": [{"name": 2}, {"name": 3}, {"name": 1}],
            "mergingList": [{"name": 3, "value": "x"}],
        },
        {
            "mergingList": [
                {"name": 2, "value": 2, "other": "b"},
                {"name": 3, "value": "x"},
                {"name": 1, "other": "a"},
            ]
        },
        id="merge by name: change keeps the order",
    ),
    pytest.param(
        {
            "mergingList": [
                {"name": 1, "other": "a"},
                {"name": 2, "value": 2, "other": "b"},
                {"name": 3, "value": 3},
            ]
        },
        {
            "$setElementOrder/mergingList": [{"name": 4}, {"name": 2}, {"name": 1}],
            "mergingList": [{"name": 4, "value": 4}, {"name": 3, "$patch": "delete"}],
        },
        {
            "mergingList": [
                {"name": 4, "value": 4},
                {"name": 2, "value": 2, "other": "b"},
                {"name": 1, "other": "a"},
            ]
        },
        id="merge by name: add and delete keep the order",
    ),
    pytest.param(
        {
            "mergingList": [
                {"name": 1, "other": "a"},
                {"name": 3, "value": 3},
                {"name": 4, "value": 4},
                {"name": 2, "value": 2},
            ]
        },
        {"$setElementOrder/mergingList": [{"name": 4}, {"name": 2}, {"name": 3}, {"name": 1}]},
        {
            "mergingList": [
                {"name": 4, "value": 4},
                {"name": 2, "value": 2},
                {"name": 3, "value": 3},
                {"name": 1, "other": "a"},
            ]
        },
        id="$setElementOrder alone reorders a merged list",
    ),
    pytest.param(
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
        id="$setElementOrder: live-only element at the end stays last",
    ),
    pytest.param(
        {
            "mergingList": [
                {"name": 1, "other": "a"},
                {"name": 2, "value": 2},
                {"name": 9},
                {"name": 3, "value": 3},
                {"name": 4, "value": 4},
            ]
        },
        {"$setElementOrder/mergingList": [{"name": 2}, {"name": 1}, {"name": 4}, {"name": 3}]},
        {
            "mergingList": [
                {"name": 2, "value": 2},
                {"name": 1, "other": "a"},
                {"name": 9},
                {"name": 4, "value": 4},
                {"name": 3, "value": 3},
            ]
        },
        id="$setElementOrder: live-only element keeps its neighbour",
    ),
    pytest.param(
        {
            "mergingList": [
                {"name": 1, "other": "a"},
                {"name": 2, "value": 2},
                {"name": 7},
                {"name": 9},
                {"name": 8},
                {"name": 3, "value": 3},
                {"name": 4, "value": 4},
            ]
        },
        {"$setElementOrder/mergingList": [{"name": 2}, {"name": 1}, {"name": 4}, {"name": 3}]},
        {
            "mergingList": [
                {"name": 2, "value": 2},
                {"name": 1, "other": "a"},
                {"name": 7},
                {"name": 9},
                {"name": 8},
                {"name": 4, "value": 4},
                {"name": 3, "value": 3},
            ]
        },
        id="$setElementOrder: live-only run keeps its place",
    ),
    pytest.param(
        {"mergingIntList": [1, 2]},
        {"$setElementOrder/mergingIntList": [3, 1, 2], "mergingIntList": [3]},
        {"mergingIntList": [3, 1, 2]},
        id="primitive merge list: addition lands in order",
    ),
    pytest.param(
        {"mergingIntList": [1, 2, 3]},
        {"$setElementOrder/mergingIntList": [2, 1], "$deleteFromPrimitiveList/mergingIntList": [3]},
        {"mergingIntList": [2, 1]},
        id="primitive merge list: deletion with $setElementOrder",
    ),
    pytest.param(
        {"mergingIntList": [1, 2, 9, 3, 4]},
        {"$setElementOrder/mergingIntList": [2, 1, 4, 3]},
        {"mergingIntList": [2, 1, 9, 4, 3]},
        id="primitive $setElementOrder: live-only value keeps its neighbour",
    ),
    pytest.param(
        {"mergingIntList": [1, 2, 7, 9, 8, 3, 4]},
        {"$setElementOrder/mergingIntList": [2, 1, 4, 3]},
        {"mergingIntList": [2, 1, 7, 9, 8, 4, 3]},
        id="primitive $setElementOrder: live-only run keeps its place",
    ),
    pytest.param(
        {
            "mergingList": [
                {"name": 1},
                {"name": 2, "value": "dup1"},
                {"name": 3},
                {"name": 2, "value": "dup2"},
                {"name": 4},
            ]
        },
        {
            "$setElementOrder/mergingList": [
                {"name": 2},
                {"name": 1},
                {"name": 4},
                {"name": 3},
                {"name": 2},
            ]
        },
        {
            "mergingList": [
                {"name": 2, "value": "dup1"},
                {"name": 2, "value": "dup2"},
                {"name": 1},
                {"name": 4},
                {"name": 3},
            ]
        },
        id="$setElementOrder with duplicate keys groups them",
    ),
    pytest.param(
        {"mergingIntList": [1, 2, 3, 2, 4]},
        {"$setElementOrder/mergingIntList": [2, 1, 4, 3, 2]},
        {"mergingIntList": [2, 2, 1, 4, 3]},
        id="primitive $setElementOrder with duplicates groups them",
    ),
    pytest.param(
        {"retainKeysMap": {"value": "foo"}},
        {"retainKeysMap": {"$retainKeys": ["other"], "other": "bar"}},
        {"retainKeysMap": {"other": "bar"}},
        id="$retainKeys clears a defaulted field",
    ),
    pytest.param(
        {"retainKeysMap": {"name": "type1", "value": "foo"}},
        {"retainKeysMap": {"$retainKeys": ["name", "other"], "name": "type2", "other": "bar"}},
        {"retainKeysMap": {"name": "type2", "other": "bar"}},
        id="$retainKeys switches a union's member",
    ),
    pytest.param(
        {"retainKeysMap": {"name": "foo", "other": "a"}},
        {"retainKeysMap": {"$retainKeys": ["name", "value"], "value": "bar"}},
        {"retainKeysMap": {"name": "foo", "value": "bar"}},
        id="$retainKeys: add one field, clear another",
    ),
    pytest.param(
        {"retainKeysMap": {"name": "foo", "value": "bar", "other": "a"}},
        {"retainKeysMap": {"$retainKeys": ["name"], "value": None}},
        {"retainKeysMap": {"name": "foo"}},
        id="$retainKeys with a null",
    ),
    pytest.param(
        {"retainKeysMap": {"name": "foo", "value": "bar", "other": "a"}},
        {"retainKeysMap": {"$retainKeys": ["name", "value"]}},
        {"retainKeysMap": {"name": "foo", "value": "bar"}},
        id="$retainKeys alone clears unlisted fields",
    ),
    pytest.param(
        {"retainKeysMap": {"name": "foo", "simpleMap": {"key1": "a"}}},
        {"retainKeysMap": {"$retainKeys": ["name", "simpleMap", "value"], "value": "bar"}},
        {"retainKeysMap": {"name": "foo", "value": "bar", "simpleMap": {"key1": "a"}}},
        id="$retainKeys keeps a listed nested map whole",
    ),
    pytest.param(
        {"retainKeysMap": {"name": "foo", "value": "bar", "simpleMap": {"key1": "a", "key3": "c"}}},
        {
            "retainKeysMap": {
                "$retainKeys": ["name", "simpleMap", "value"],
                "simpleMap": {"key2": "b"},
            }
        },
        {
            "retainKeysMap": {
                "name": "foo",
                "value": "bar",
                "simpleMap": {"key1": "a", "key2": "b", "key3": "c"},
            }
        },
        id="$retainKeys with a nested map merged",
    ),
    pytest.param(
        {
            "retainKeysMap": {
                "name": "foo",
                "value": "bar",
                "nonMergingList": [{"name": "a"}, {"name": "b"}],
            }
        },
        {
            "retainKeysMap": {
                "$retainKeys": ["name", "nonMergingList", "value"],
                "nonMergingList": [{"name": "a"}, {"name": "c"}, {"name": "b"}],
            }
        },
        {
            "retainKeysMap": {
                "name": "foo",
                "value": "bar",
                "nonMergingList": [{"name": "a"}, {"name": "c"}, {"name": "b"}],
            }
        },
        id="$retainKeys with a replaced list",
    ),
    pytest.param(
        {"retainKeysMap": {"name": "foo", "nonMergingList": [{"name": "a"}, {"name": "b"}]}},
        {
            "retainKeysMap": {
                "$retainKeys": ["name", "value"],
                "value": "bar",
                "nonMergingList": None,
            }
        },
        {"retainKeysMap": {"name": "foo", "value": "bar"}},
        id="$retainKeys drops an unlisted list",
    ),
    pytest.param(
        {"retainKeysMap": {"name": "foo", "mergingIntList": [1, 2, 3, 4]}},
        {
            "retainKeysMap": {
                "$retainKeys": ["mergingIntList", "name"],
                "mergingIntList": [5],
                "$deleteFromPrimitiveList/mergingIntList": [2],
                "$setElementOrder/mergingIntList": [1, 3, 5],
            }
        },
        {"retainKeysMap": {"name": "foo", "mergingIntList": [1, 3, 5, 4]}},
        id="$retainKeys with parallel primitive lists",
    ),
    pytest.param(
        {"retainKeysMap": {"name": "foo", "mergingList": [{"name": "a"}, {"name": "b"}]}},
        {"retainKeysMap": {"$retainKeys": ["name", "value"], "value": "bar", "mergingList": None}},
        {"retainKeysMap": {"name": "foo", "value": "bar"}},
        id="$retainKeys drops an unlisted merged list",
    ),
    pytest.param(
        {
            "retainKeysMap": {
                "name": "foo",
                "mergingList": [{"name": "a"}, {"name": "b"}, {"name": "x"}],
            }
        },
        {
            "retainKeysMap": {
                "$retainKeys": ["mergingList", "name"],
                "$setElementOrder/mergingList": [{"name": "a"}],
                "mergingList": [{"name": "b", "$patch": "delete"}],
            }
        },
        {"retainKeysMap": {"name": "foo", "mergingList": [{"name": "a"}, {"name": "x"}]}},
        id="$retainKeys with a $patch delete element",
    ),
    pytest.param(
        {"retainKeysMergingList": [{"name": "bar"}, {"name": "foo", "value": "a", "other": "x"}]},
        {
            "$setElementOrder/retainKeysMergingList": [{"name": "bar"}, {"name": "foo"}],
            "retainKeysMergingList": [{"$retainKeys": ["name", "value"], "name": "foo"}],
        },
        {"retainKeysMergingList": [{"name": "bar"}, {"name": "foo", "value": "a"}]},
        id="merge,retainKeys list: $retainKeys in an element",
    ),
    pytest.param(
        {"retainKeysMergingList": [{"name": "bar"}, {"name": "foo", "value": "old", "other": "x"}]},
        {
            "$setElementOrder/retainKeysMergingList": [{"name": "bar"}, {"name": "foo"}],
            "retainKeysMergingList": [
                {"$retainKeys": ["name", "value"], "name": "foo", "value": "new"}
            ],
        },
        {"retainKeysMergingList": [{"name": "bar"}, {"name": "foo", "value": "new"}]},
        id="merge,retainKeys list: change one field, clear another",
    ),
    pytest.param(
        {"retainKeysMergingList": [{"name": "bar"}, {"name": "foo", "other": "x"}]},
        {
            "$setElementOrder/retainKeysMergingList": [{"name": "bar"}, {"name": "foo"}],
            "retainKeysMergingList": [
                {"$retainKeys": ["name", "value"], "name": "foo", "value": "a"}
            ],
        },
        {"retainKeysMergingList": [{"name": "bar"}, {"name": "foo", "value": "a"}]},
        id="merge,retainKeys list: add one field, clear another",
    ),
    pytest.param(
        {"retainKeysMergingList": [{"name": "bar"}, {"name": "foo", "value": "a", "other": "x"}]},
        {
            "$setElementOrder/retainKeysMergingList": [{"name": "bar"}, {"name": "foo"}],
            "retainKeysMergingList": [{"$retainKeys": ["name"], "name": "foo", "value": None}],
        },
        {"retainKeysMergingList": [{"name": "bar"}, {"name": "foo"}]},
        id="merge,retainKeys list: null and clear",
    ),
    pytest.param(
        {
            "mergingList": [{"name": "a", "value": "a"}, {"name": "b", "value": "b"}],
            "mergeItemPtr": [{"name": "c", "value": "c"}, {"name": "d", "value": "d"}],
        },
        {
            "$setElementOrder/mergingList": [{"name": "b"}],
            "$setElementOrder/mergeItemPtr": [{"name": "d"}, {"name": "c"}],
            "mergingList": [{"$patch": "delete", "name": "a"}],
        },
        {
            "mergingList": [{"name": "b", "value": "b"}],
            "mergeItemPtr": [{"name": "d", "value": "d"}, {"name": "c", "value": "c"}],
        },
        id="two merged lists reordered in one patch",
    ),
    pytest.param(
        {
            "name": "my-object",
            "value": "some-value",
            "other": "current-other",
            "mergingList": [{"name": 1}, {"name": 2}, {"name": 3}],
            "replacingItem": {
                "Some": "Generic",
                "Yaml": "Inside",
                "The": "RawExtension",
                "Field": "Period",
            },
        },
        {"replacingItem": {"Newly": "Modified", "Yaml": "Inside", "The": "RawExtension"}},
        {
            "name": "my-object",
            "value": "some-value",
            "other": "current-other",
            "mergingList": [{"name": 1}, {"name": 2}, {"name": 3}],
            "replacingItem": {"Newly": "Modified", "Yaml": "Inside", "The": "RawExtension"},
        },
        id="replace strategy: a map is replaced whole",
    ),
    pytest.param(
        {
            "name": "my-object",
            "value": "some-value",
            "other": "current-other",
            "mergingList": [{"name": 1}, {"name": 3}],
            "replacingItem": {
                "Some": "Generic",
                "Yaml": "Inside",
                "The": "RawExtension",
                "Field": "Period",
            },
        },
        {
            "$setElementOrder/mergingList": [{"name": 1}, {"name": 2}],
            "mergingList": [{"name": 2}],
            "replacingItem": {"Newly": "Modified", "Yaml": "Inside", "The": "RawExtension"},
        },
        {
            "name": "my-object",
            "value": "some-value",
            "other": "current-other",
            "mergingList": [{"name": 1}, {"name": 2}, {"name": 3}],
            "replacingItem": {"Newly": "Modified", "Yaml": "Inside", "The": "RawExtension"},
        },
        id="replace strategy beside a merged list",
    ),
]

# Beyond Kubernetes' table: keys the schema does not know, nulls in new values.
MORE_CASES = [
    pytest.param(
        {"unknown": {"a": 1, "b": 2}},
        {"unknown": {"b": None, "c": 3}},
        {"unknown": {"a": 1, "c": 3}},
        id="unknown key: maps merge",
    ),
    pytest.param(
        {"unknown": [{"name": "a", "x": 1}, {"name": "b"}]},
        {"unknown": [{"name": "a", "y": 2}]},
        {"unknown": [{"name": "a", "y": 2}]},
        id="unknown key: lists are replaced",
    ),
    pytest.param(
        {"name": "a"},
        {"simpleMap": {"k": "v", "gone": None, "nested": {"deep": None}}},
        {"name": "a", "simpleMap": {"k": "v", "nested": {}}},
        id="new map: nulls dropped at every depth",
    ),
    pytest.param(
        {"mergingList": [{"name": "a", "value": "1", "other": "x"}]},
        {"mergingList": [{"name": "a", "value": None}]},
        {"mergingList": [{"name": "a", "other": "x"}]},
        id="null in a merged element deletes that field",
    ),
    pytest.param(
        {"mergingList": [{"name": "a", "mergingList": [{"name": "x", "value": "1"}]}]},
        {"mergingList": [{"name": "a", "mergingList": [{"name": "x", "$patch": "delete"}]}]},
        {"mergingList": [{"name": "a", "mergingList": []}]},
        id="$patch delete in a nested merged list",
    ),
    pytest.param(
        {"simpleMap": {"a": "1"}, "name": "n"},
        {"simpleMap": None},
        {"name": "n"},
        id="null deletes a whole map",
    ),
    pytest.param(
        {"replacingItem": {"a": 1, "b": 2}},
        {"replacingItem": {"c": 3}},
        {"replacingItem": {"c": 3}},
        id="replace strategy: no merge",
    ),
    pytest.param(
        {"name": "a"},
        {
            "mergingList": [
                {"name": "x", "sub": {"$patch": "delete"}},
                {"name": "y", "$patch": "delete"},
            ]
        },
        {"name": "a", "mergingList": [{"name": "x"}]},
        id="new list: elements and maps carrying $patch dropped",
    ),
    pytest.param(
        {"nonMergingIntList": [1, 2]},
        {"nonMergingIntList": "now a string"},
        {"nonMergingIntList": "now a string"},
        id="a value of another type replaces",
    ),
]


@pytest.mark.parametrize(("original", "patch", "expected"), KUBERNETES_CASES + MORE_CASES)
def test_apply(original: dict[str, Any], patch: dict[str, Any], expected: dict[str, Any]) -> None:
    assert strategic_merge_patch(original, patch, MERGE_ITEM) == expected


@pytest.mark.parametrize(("original", "patch", "expected"), KUBERNETES_CASES + MORE_CASES)
def test_inputs_are_left_alone(
    original: dict[str, Any], patch: dict[str, Any], expected: dict[str, Any]
) -> None:
    before = copy.deepcopy((original, patch))
    strategic_merge_patch(original, patch, MERGE_ITEM)
    assert (original, patch) == before


ERROR_CASES = [
    pytest.param(
        {"mergingList": [{"name": 1}, {"name": 3}, {"name": 2}]},
        {
            "$setElementOrder/mergingList": [{"name": 1}, {"name": 2}, {"name": 3}],
            "mergingList": [{"name": 3, "value": 3}, {"name": 1, "value": 1}],
        },
        "The order in patch list:\n[map[name:3 value:3] map[name:1 value:1]]\n doesn't match "
        "$setElementOrder list:\n[map[name:1] map[name:2] map[name:3]]\n",
        422,
        id="$setElementOrder disagrees with the patch list",
    ),
    pytest.param(
        {"mergingIntList": [1, 3, 2]},
        {"$setElementOrder/mergingIntList": [1, 2, 3], "mergingIntList": [3, 1]},
        "The order in patch list:\n[3 1]\n doesn't match $setElementOrder list:\n[1 2 3]\n",
        422,
        id="$setElementOrder disagrees with the primitive patch list",
    ),
    pytest.param(
        {"mergingList": [{"name": 1, "value": "a"}]},
        {"mergingList": [{"value": "b"}]},
        "map: map[value:b] does not contain declared merge key: name",
        422,
        id="element without its merge key",
    ),
    pytest.param(
        {"mergingList": [{"name": 1}]},
        {"mergingList": [{"$patch": "delete"}]},
        "map: map[$patch:delete] does not contain declared merge key: name",
        422,
        id="$patch delete without the merge key",
    ),
    pytest.param(
        {"simpleMap": {"a": "b"}},
        {"simpleMap": {"$patch": "shred"}},
        "unknown patch type: shred in map: map[$patch:shred]",
        422,
        id="unknown $patch on a map",
    ),
    pytest.param(
        {"mergingList": [{"name": 1}]},
        {"mergingList": [{"name": 1, "$patch": "merge"}]},
        "merging lists cannot yet be specified in the patch",
        422,
        id="$patch merge in a list",
    ),
    pytest.param(
        {"mergingList": [{"name": 1}]},
        {"mergingList": [{"name": 1, "$patch": "shred"}]},
        "unknown patch type: shred in map: map[$patch:shred name:1]",
        422,
        id="unknown $patch in a list",
    ),
    pytest.param(
        {"retainKeysMap": {"name": "a"}},
        {"retainKeysMap": {"$retainKeys": "name"}},
        "invalid patch format of retainKeys",
        400,
        id="$retainKeys not a list",
    ),
    pytest.param(
        {"retainKeysMap": {"name": "a"}},
        {"retainKeysMap": {"$retainKeys": ["name"], "value": "v"}},
        "invalid patch format of retainKeys",
        400,
        id="$retainKeys lacks a key the patch sets",
    ),
    pytest.param(
        {"mergingIntList": [1]},
        {"$deleteFromPrimitiveListmergingIntList": [1]},
        "invalid patch format of primitive list",
        400,
        id="$deleteFromPrimitiveList without a slash",
    ),
    pytest.param(
        {"mergingIntList": [1]},
        {"$setElementOrder-mergingIntList": [1]},
        "invalid patch format of setElementOrder list",
        400,
        id="$setElementOrder without a slash",
    ),
    pytest.param(
        {"mergingIntList": [1]},
        {"$setElementOrder/mergingIntList": "1"},
        "expected a []interface {}, but received a string",
        422,
        id="$setElementOrder not a list",
    ),
    pytest.param(
        {"mergingIntList": [[1]]},
        {"mergingIntList": [[2]]},
        "lists of lists are not supported",
        422,
        id="list of lists",
    ),
    pytest.param(
        {"mergingIntList": [1]},
        {"mergingIntList": ["a"]},
        "list element types are not identical: [[1] [a]]",
        422,
        id="mixed element types",
    ),
    pytest.param(
        {"mergingIntList": [{"name": 1}]},
        {"mergingIntList": [{"name": 2}]},
        "cannot merge lists without merge key for mergingIntList",
        422,
        id="maps in a merged list without a merge key",
    ),
]


@pytest.mark.parametrize(("original", "patch", "message", "code"), ERROR_CASES)
def test_errors(original: dict[str, Any], patch: dict[str, Any], message: str, code: int) -> None:
    with pytest.raises(PatchError) as caught:
        strategic_merge_patch(original, patch, MERGE_ITEM)
    assert (caught.value.message, caught.value.code) == (message, code)


@pytest.mark.parametrize("patch", [[{"name": "a"}], "name", None])
def test_patch_must_be_an_object(patch: Any) -> None:
    with pytest.raises(PatchError) as caught:
        strategic_merge_patch({}, patch, MERGE_ITEM)
    assert caught.value.code == 400
    assert caught.value.message.startswith("json: cannot unmarshal ")
