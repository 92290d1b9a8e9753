"""JSON merge patch (RFC 7386): the RFC's own examples, and what the apiserver adds (the patch
must be an object; the object is not modified)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from podplane.apimachinery.patch.mergepatch import PatchError, apply_merge_patch, merge

# RFC 7386, appendix A: (target, patch, result).
RFC_EXAMPLES = [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    (["a", "b"], ["c", "d"], ["c", "d"]),
    ({"a": "b"}, ["c"], ["c"]),
    ({"a": "foo"}, None, None),
    ({"a": "foo"}, "bar", "bar"),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
]


@pytest.mark.parametrize(("target", "patch", "result"), RFC_EXAMPLES)
def test_rfc_examples(target: Any, patch: Any, result: Any) -> None:
    assert merge(target, patch) == result


def test_object_patch() -> None:
    deployment = {
        "metadata": {"name": "web", "labels": {"app": "web", "tier": "front"}},
        "spec": {"replicas": 1, "template": {"spec": {"containers": [{"name": "app"}]}}},
    }
    before = copy.deepcopy(deployment)
    patched = apply_merge_patch(
        deployment,
        {
            "metadata": {"labels": {"tier": None, "track": "stable"}},
            "spec": {
                "replicas": 3,
                "template": {"spec": {"containers": [{"name": "app", "image": "x"}]}},
            },
        },
    )
    assert patched == {
        "metadata": {"name": "web", "labels": {"app": "web", "track": "stable"}},
        "spec": {
            "replicas": 3,
            "template": {"spec": {"containers": [{"name": "app", "image": "x"}]}},
        },
    }
    assert deployment == before


@pytest.mark.parametrize("patch", [None, ["a"], "a", 1])
def test_patch_must_be_an_object(patch: Any) -> None:
    with pytest.raises(PatchError) as caught:
        apply_merge_patch({"a": 1}, patch)
    assert (caught.value.message, caught.value.code) == ("Invalid JSON Patch", 400)
