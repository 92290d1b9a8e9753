"""JSON patch (RFC 6902) as the apiserver applies it: the RFC's operations and pointers, the
leniencies Kubernetes' library has (replace adds a missing member, negative indices), and its
error messages, which kubectl users see."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from podplane.apimachinery.patch.jsonpatch import MAX_OPERATIONS, apply_json_patch
from podplane.apimachinery.patch.mergepatch import PatchError

POD = {
    "metadata": {"name": "web", "labels": {"app": "web"}, "finalizers": ["a", "b"]},
    "spec": {"containers": [{"name": "app", "image": "web:1"}], "nodeName": ""},
}

CASES = [
    pytest.param(
        {"foo": "bar"},
        [{"op": "add", "path": "/baz", "value": "qux"}],
        {"foo": "bar", "baz": "qux"},
        id="add a member",
    ),
    pytest.param(
        {"foo": ["bar", "baz"]},
        [{"op": "add", "path": "/foo/1", "value": "qux"}],
        {"foo": ["bar", "qux", "baz"]},
        id="add inserts into an array",
    ),
    pytest.param(
        {"foo": ["bar"]},
        [{"op": "add", "path": "/foo/-", "value": ["abc", "def"]}],
        {"foo": ["bar", ["abc", "def"]]},
        id="add - appends",
    ),
    pytest.param(
        {"foo": ["a", "b"]},
        [{"op": "add", "path": "/foo/2", "value": "c"}],
        {"foo": ["a", "b", "c"]},
        id="add at the array's length appends",
    ),
    pytest.param(
        {"foo": ["a", "b"]},
        [{"op": "add", "path": "/foo/-1", "value": "c"}],
        {"foo": ["a", "b", "c"]},
        id="add at -1 appends",
    ),
    pytest.param(
        {"foo": "bar"},
        [{"op": "add", "path": "/foo", "value": None}],
        {"foo": None},
        id="add replaces an existing member",
    ),
    pytest.param(
        {"foo": 1},
        [{"op": "add", "path": "/bar"}],
        {"foo": 1, "bar": None},
        id="add without a value adds null",
    ),
    pytest.param(
        {},
        [{"op": "add", "path": "/a~1b", "value": 1}, {"op": "add", "path": "/m~0n", "value": 2}],
        {"a/b": 1, "m~n": 2},
        id="~1 and ~0 escapes",
    ),
    pytest.param(
        {"": {"x": 1}},
        [{"op": "replace", "path": "//x", "value": 2}],
        {"": {"x": 2}},
        id="empty member name",
    ),
    pytest.param(
        {"baz": "qux", "foo": "bar"},
        [{"op": "remove", "path": "/baz"}],
        {"foo": "bar"},
        id="remove a member",
    ),
    pytest.param(
        {"foo": ["bar", "qux", "baz"]},
        [{"op": "remove", "path": "/foo/1"}],
        {"foo": ["bar", "baz"]},
        id="remove an element",
    ),
    pytest.param(
        {"foo": ["bar", "qux", "baz"]},
        [{"op": "remove", "path": "/foo/-1"}],
        {"foo": ["bar", "qux"]},
        id="remove -1 removes the last",
    ),
    pytest.param(
        {"baz": "qux", "foo": "bar"},
        [{"op": "replace", "path": "/baz", "value": "boo"}],
        {"baz": "boo", "foo": "bar"},
        id="replace a member",
    ),
    pytest.param(
        {"foo": "bar"},
        [{"op": "replace", "path": "/baz", "value": "boo"}],
        {"foo": "bar", "baz": "boo"},
        id="replace of a missing member adds it, as in Kubernetes",
    ),
    pytest.param(
        {"foo": ["a", "b"]},
        [{"op": "replace", "path": "/foo/0", "value": "z"}],
        {"foo": ["z", "b"]},
        id="replace an element",
    ),
    pytest.param(
        {"foo": 1},
        [{"op": "replace", "path": "", "value": {"bar": 2}}],
        {"bar": 2},
        id="replace the whole document",
    ),
    pytest.param(
        {"foo": {"bar": "baz", "waldo": "fred"}, "qux": {"corge": "grault"}},
        [{"op": "move", "from": "/foo/waldo", "path": "/qux/thud"}],
        {"foo": {"bar": "baz"}, "qux": {"corge": "grault", "thud": "fred"}},
        id="move a member",
    ),
    pytest.param(
        {"foo": ["all", "grass", "cows", "eat"]},
        [{"op": "move", "from": "/foo/1", "path": "/foo/3"}],
        {"foo": ["all", "cows", "eat", "grass"]},
        id="move an element",
    ),
    pytest.param(
        {"foo": {"bar": [1, 2]}},
        [
            {"op": "copy", "from": "/foo", "path": "/baz"},
            {"op": "add", "path": "/baz/bar/-", "value": 3},
        ],
        {"foo": {"bar": [1, 2]}, "baz": {"bar": [1, 2, 3]}},
        id="copy is deep",
    ),
    pytest.param(
        {"baz": "qux", "foo": ["a", 2, "c"]},
        [
            {"op": "test", "path": "/baz", "value": "qux"},
            {"op": "test", "path": "/foo/1", "value": 2},
        ],
        {"baz": "qux", "foo": ["a", 2, "c"]},
        id="test passes",
    ),
    pytest.param(
        {"foo": {"a": [1, {"b": None}]}},
        [{"op": "test", "path": "/foo", "value": {"a": [1.0, {"b": None}]}}],
        {"foo": {"a": [1, {"b": None}]}},
        id="test compares structurally",
    ),
    pytest.param(
        {"foo": 1},
        [{"op": "test", "path": "/missing", "value": None}],
        {"foo": 1},
        id="test of a missing member against null passes, as in Kubernetes",
    ),
    pytest.param(
        {"foo": 1},
        [{"op": "test", "path": "", "value": {"foo": 1}}],
        {"foo": 1},
        id="test the whole document",
    ),
    pytest.param(
        POD,
        [
            {"op": "test", "path": "/metadata/labels/app", "value": "web"},
            {"op": "replace", "path": "/spec/containers/0/image", "value": "web:2"},
            {"op": "add", "path": "/metadata/labels/tier", "value": "front"},
            {"op": "remove", "path": "/metadata/finalizers/0"},
        ],
        {
            "metadata": {
                "name": "web",
                "labels": {"app": "web", "tier": "front"},
                "finalizers": ["b"],
            },
            "spec": {"containers": [{"name": "app", "image": "web:2"}], "nodeName": ""},
        },
        id="kubectl patch --type=json on a pod",
    ),
    pytest.param(
        {"foo": {"a": [1]}, "bar": {"b": 2}},
        [
            {"op": "move", "from": "/foo", "path": "/baz"},
            {"op": "add", "path": "/baz/a/-", "value": 2},
            {"op": "copy", "from": "/bar", "path": "/qux"},
            {"op": "remove", "path": "/bar/b"},
        ],
        {"bar": {}, "baz": {"a": [1, 2]}, "qux": {"b": 2}},
        id="moved and copied values change without touching the input",
    ),
    pytest.param(POD, None, POD, id="a null patch changes nothing"),
]


@pytest.mark.parametrize(("document", "operations", "expected"), CASES)
def test_apply(document: Any, operations: Any, expected: Any) -> None:
    before = copy.deepcopy((document, operations))
    assert apply_json_patch(document, operations) == expected
    assert (document, operations) == before


ERRORS = [
    pytest.param(
        [{"op": "test", "path": "/metadata/name", "value": "db"}],
        "testing value /metadata/name failed: test failed",
        id="test fails",
    ),
    pytest.param(
        [{"op": "test", "path": "/spec/nodeName", "value": None}],
        "testing value /spec/nodeName failed: test failed",
        id="test of an empty string against null fails",
    ),
    pytest.param(
        [{"op": "test", "path": "/spec/containers/0/ready", "value": True}],
        "testing value /spec/containers/0/ready failed: test failed",
        id="test of a missing member against a value fails",
    ),
    pytest.param(
        [{"op": "add", "path": "/spec/foo/bar", "value": 1}],
        'add operation does not apply: doc is missing path: "/spec/foo/bar": missing value',
        id="add under a missing member",
    ),
    pytest.param(
        [{"op": "add", "path": "/metadata/name/x", "value": 1}],
        'add operation does not apply: doc is missing path: "/metadata/name/x": missing value',
        id="add under a string",
    ),
    pytest.param(
        [{"op": "add", "path": "metadata", "value": 1}],
        'add operation does not apply: doc is missing path: "metadata": missing value',
        id="pointer without a leading slash",
    ),
    pytest.param(
        [{"op": "add", "path": "/metadata/finalizers/3", "value": "c"}],
        "error in add for path: '/metadata/finalizers/3': "
        "Unable to access invalid index: 3: invalid index referenced",
        id="add past the end",
    ),
    pytest.param(
        [{"op": "add", "path": "/metadata/finalizers/x", "value": "c"}],
        "error in add for path: '/metadata/finalizers/x': value was not a proper array index: "
        "'x': strconv.Atoi: parsing \"x\": invalid syntax",
        id="add at a non-index",
    ),
    pytest.param(
        [{"op": "remove", "path": "/spec/foo"}],
        "error in remove for path: '/spec/foo': Unable to remove nonexistent key: foo: missing "
        "value",
        id="remove a missing member",
    ),
    pytest.param(
        [{"op": "remove", "path": "/metadata/finalizers/2"}],
        "error in remove for path: '/metadata/finalizers/2': "
        "Unable to access invalid index: 2: invalid index referenced",
        id="remove past the end",
    ),
    pytest.param(
        [{"op": "remove", "path": "/spec/containers/1/image"}],
        'remove operation does not apply: doc is missing path: "/spec/containers/1/image": '
        "missing value",
        id="remove under a missing element",
    ),
    pytest.param(
        [{"op": "replace", "path": "/metadata/finalizers/5", "value": "c"}],
        "replace operation does not apply: doc is missing key: /metadata/finalizers/5: missing "
        "value",
        id="replace a missing element",
    ),
    pytest.param(
        [{"op": "replace", "path": "/nope/x", "value": "c"}],
        "replace operation does not apply: doc is missing path: /nope/x: missing value",
        id="replace under a missing member",
    ),
    pytest.param(
        [{"op": "replace", "path": "", "value": 5}],
        "replace operation value must be object or array",
        id="replace the document with a number",
    ),
    pytest.param(
        [{"op": "move", "from": "/spec/foo", "path": "/spec/bar"}],
        "error in move for path: 'foo': Unable to remove nonexistent key: foo: missing value",
        id="move a missing member",
    ),
    pytest.param(
        [{"op": "move", "from": "/metadata/name", "path": "/nope/name"}],
        "move operation does not apply: doc is missing destination path: /nope/name: missing value",
        id="move to a missing parent",
    ),
    pytest.param(
        [{"op": "copy", "from": "/spec/foo", "path": "/spec/bar"}],
        "copy operation does not apply: doc is missing from path: /spec/foo: missing value",
        id="copy a missing member",
    ),
    pytest.param(
        [{"op": "copy", "from": "/metadata/finalizers/9", "path": "/spec/bar"}],
        "error in copy for from: '/metadata/finalizers/9': "
        "Unable to access invalid index: 9: invalid index referenced",
        id="copy a missing element",
    ),
    pytest.param(
        [{"op": "test", "path": "/nope/x", "value": 1}],
        "test operation does not apply: is missing path: /nope/x: missing value",
        id="test under a missing member",
    ),
    pytest.param(
        [{"op": "add", "value": 1}],
        "add operation failed to decode path: missing value",
        id="operation without a path",
    ),
    pytest.param(
        [{"op": "move", "path": "/x"}],
        "move operation failed to decode from: missing value",
        id="move without from",
    ),
    pytest.param([{"op": "merge", "path": "/x"}], "Unexpected kind: merge", id="unknown op"),
    pytest.param([{"path": "/x"}], "Unexpected kind: unknown", id="operation without op"),
]


@pytest.mark.parametrize(("operations", "message"), ERRORS)
def test_errors(operations: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(PatchError) as caught:
        apply_json_patch(POD, operations)
    assert (caught.value.message, caught.value.code) == (message, 422)


def test_a_failed_operation_leaves_the_document_alone() -> None:
    before = copy.deepcopy(POD)
    with pytest.raises(PatchError):
        apply_json_patch(
            POD,
            [
                {"op": "replace", "path": "/metadata/name", "value": "db"},
                {"op": "test", "path": "/metadata/name", "value": "web"},
            ],
        )
    assert POD == before


@pytest.mark.parametrize(
    ("operations", "message"),
    [
        ({"op": "add"}, "json: cannot unmarshal object into Go value of type jsonpatch.Patch"),
        (["add"], "json: cannot unmarshal string into Go value of type jsonpatch.Operation"),
    ],
)
def test_malformed_patch_is_a_bad_request(operations: Any, message: str) -> None:
    with pytest.raises(PatchError) as caught:
        apply_json_patch(POD, operations)
    assert (caught.value.message, caught.value.code) == (message, 400)


def test_too_many_operations() -> None:
    operations = [{"op": "test", "path": "/metadata/name", "value": "web"}] * (MAX_OPERATIONS + 1)
    with pytest.raises(PatchError) as caught:
        apply_json_patch(POD, operations)
    assert caught.value.code == 413
    assert caught.value.message == (
        f"The allowed maximum operations in a JSON patch is {MAX_OPERATIONS}, "
        f"got {MAX_OPERATIONS + 1}"
    )
