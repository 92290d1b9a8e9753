"""The schema of Kubernetes' strategic merge patch test type (apimachinery's strategicpatch
tests): MergeItem's fields with their patch strategies and merge keys, and RetainKeysMergeItem's.
The k8s test cases in test_strategicpatch.py and test_strategicdiff.py are written against it."""

from __future__ import annotations

from podplane.apimachinery.patch.schema import DictPatchSchema

MERGE_ITEM = DictPatchSchema(
    {
        "mergeItem": {
            "mergingList": ("mergeItem", "merge", "name"),
            "nonMergingList": ("mergeItem", "", ""),
            "mergingIntList": (None, "merge", ""),
            "nonMergingIntList": (None, "", ""),
            "mergeItemPtr": ("mergeItem", "merge", "name"),
            "simpleMap": (None, "", ""),
            "replacingItem": (None, "replace", ""),
            "retainKeysMap": ("retainKeysMergeItem", "retainKeys", ""),
            "retainKeysMergingList": ("mergeItem", "merge,retainKeys", "name"),
        },
        "retainKeysMergeItem": {
            "simpleMap": (None, "", ""),
            "mergingIntList": (None, "merge", ""),
            "mergingList": ("mergeItem", "merge", "name"),
            "nonMergingList": ("mergeItem", "", ""),
        },
    },
    "mergeItem",
)
