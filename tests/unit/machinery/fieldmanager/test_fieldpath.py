"""Field paths and sets as structured-merge-diff has them (its fieldpath package tests): path
elements written and read back (serialize-pe_test.go), sets in the FieldsV1 format byte for byte
(serialize_test.go TestSerializeV1GoldenData, TestDropUnknown), set arithmetic (set_test.go
TestSetDifference, TestEnsureNamedFieldsAreMembers) and paths as conflicts print them
(path_test.go TestPathString)."""

from __future__ import annotations

import random

import pytest

from podplane.apimachinery.fieldmanager import fieldpath, fieldsv1
from podplane.apimachinery.fieldmanager.fieldpath import FieldSet, make_path, parse_element
from podplane.apimachinery.fieldmanager.schema import ASSOCIATIVE, NUMERIC, ListType, MapType
from podplane.apimachinery.fieldmanager.schema import ScalarType as Scalar
from podplane.apimachinery.fieldmanager.typed import ensure_named_fields_are_members

P = make_path
V = fieldpath.value


@pytest.mark.parametrize(
    "text",
    [
        "i:0",
        "i:1234",
        "f:",
        "f:spec",
        "f:more-complicated-string",
        'k:{"name":"my-container"}',
        'k:{"port":"8080","protocol":"TCP"}',
        'k:{"optionalField":null}',
        'k:{"jsonField":{"A":1,"B":null,"C":"D","E":{"F":"G"}}}',
        'k:{"listField":["1","2","3"]}',
        "v:null",
        'v:"some-string"',
        "v:1234",
        'v:{"some":"json"}',
    ],
)
def test_a_path_element_reads_back_as_written(text: str) -> None:
    assert parse_element(text) == text


def test_an_element_of_an_unknown_type_is_dropped() -> None:
    assert parse_element("r:Hello") is None
    assert fieldsv1.dumps(fieldsv1.loads('{"f:aaa":{},"r:aab":{}}')) == '{"f:aaa":{}}'


@pytest.mark.parametrize(
    "text",
    [
        "",
        "no-colon",
        "i:index is not a number",
        "i:1.23",
        "i:",
        "v:invalid json",
        "v:",
        "k:invalid json",
        'k:{"name":invalid}',
    ],
)
def test_a_malformed_path_element_is_an_error(text: str) -> None:
    with pytest.raises(ValueError):
        parse_element(text)


def test_key_elements_are_written_in_one_form() -> None:
    # Keys sorted, values as Go writes them: the same item has one element whatever the order
    # or spelling it was read in.
    assert parse_element('k:{"protocol":"TCP","port":80.0}') == 'k:{"port":80,"protocol":"TCP"}'
    assert fieldpath.key({"name": "a<b"}) == 'k:{"name":"a\\u003cb"}'


GOLDEN = [
    '{"f:aaa":{},"f:aab":{},"f:aac":{},"f:aad":{},"f:aae":{},"f:aaf":{},'
    '"k:{\\"name\\":\\"first\\"}":{},"k:{\\"name\\":\\"second\\"}":{},'
    '"k:{\\"port\\":443,\\"protocol\\":\\"tcp\\"}":{},"k:{\\"port\\":443,\\"protocol\\":\\"udp\\"}":{},'
    '"v:1":{},"v:2":{},"v:3":{},"v:\\"aa\\"":{},"v:\\"ab\\"":{},"v:true":{},'
    '"i:1":{},"i:2":{},"i:3":{},"i:4":{}}',
    '{"f:aaa":{"k:{\\"name\\":\\"second\\"}":{"v:3":{"f:aab":{}}},"v:3":{},"v:true":{}},'
    '"f:aab":{"f:aaa":{},"f:aaf":{"k:{\\"port\\":443,\\"protocol\\":\\"udp\\"}":'
    '{"k:{\\"port\\":443,\\"protocol\\":\\"tcp\\"}":{}}},"k:{\\"name\\":\\"first\\"}":{}},'
    '"v:1":{"f:aac":{"i:4":{}},"f:aaf":{},"k:{\\"port\\":443,\\"protocol\\":\\"tcp\\"}":{}},'
    '"v:true":{"k:{\\"name\\":\\"second\\"}":{"f:aaa":{}},'
    '"i:2":{"k:{\\"port\\":443,\\"protocol\\":\\"tcp\\"}":{}}},'
    '"i:4":{"v:\\"aa\\"":{"f:aab":{"k:{\\"name\\":\\"second\\"}":{}}}}}',
    '{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:replicas":{},'
    '"f:template":{"f:spec":{"f:containers":{"k:{\\"name\\":\\"web\\"}":'
    '{".":{},"f:image":{},"f:name":{}}}}}}}',
]


@pytest.mark.parametrize("text", GOLDEN)
def test_a_set_is_written_back_byte_for_byte(text: str) -> None:
    assert fieldsv1.dumps(fieldsv1.loads(text)) == text
    assert fieldsv1.dumps(fieldsv1.loads_lazily(text)) == text


def _random_path(rng: random.Random) -> tuple[str, ...]:
    steps = []
    for _ in range(rng.randint(2, 5)):
        kind = rng.randrange(4)
        if kind == 0:
            steps.append(fieldpath.field(rng.choice(["aaa", "aab", "aac", "b"])))
        elif kind == 1:
            steps.append(fieldpath.key({"name": rng.choice(["first", "second"]), "n": 1}))
        elif kind == 2:
            steps.append(V(rng.choice([1, 2, "aa", True, None, 1.5])))
        else:
            steps.append(fieldpath.index(rng.randint(0, 4)))
    return tuple(steps)


def test_random_sets_read_back_as_written() -> None:
    rng = random.Random(5)
    for _ in range(200):
        fields = FieldSet.of(*(_random_path(rng) for _ in range(30)))
        text = fieldsv1.dumps(fields)
        assert fieldsv1.loads(text) == fields
        assert fieldsv1.loads_lazily(text) == fields
        assert fieldsv1.dumps(fieldsv1.loads_lazily(text)) == text


@pytest.mark.parametrize(
    "a,b,difference,recursive",
    [
        ([P("a")], [P("a")], [], []),
        ([P("a", "b", "c")], [P("a", "b", "c")], [], []),
        (
            [P("a", "b", "c"), P("b", "b", "c")],
            [P("a", "b", "c")],
            [P("b", "b", "c")],
            [P("b", "b", "c")],
        ),
        ([P("a")], [P("a", "aa")], [P("a")], [P("a")]),
        ([P("a", "b", "c")], [P("a")], [P("a", "b", "c")], []),
        (
            [P("a", "aa", "aab"), P("a", "ab", "aba")],
            [P("a", "aa")],
            [P("a", "aa", "aab"), P("a", "ab", "aba")],
            [P("a", "ab", "aba")],
        ),
        (
            [P("a", "aa", "aab"), P("a", "ab", "aba")],
            [P("a")],
            [P("a", "aa", "aab"), P("a", "ab", "aba")],
            [],
        ),
    ],
    ids=[
        "removes simple path",
        "removes direct path",
        "only removes matching child",
        "does not remove parent of specific path",
        "RecursiveDifference removes nested path",
        "RecursiveDifference only removes nested path for matching children",
        "RecursiveDifference removes all matching children",
    ],
)
def test_set_difference(
    a: list[tuple[str, ...]],
    b: list[tuple[str, ...]],
    difference: list[tuple[str, ...]],
    recursive: list[tuple[str, ...]],
) -> None:
    left, right = FieldSet.of(*a), FieldSet.of(*b)
    assert left.difference(right) == FieldSet.of(*difference)
    assert left.recursive_difference(right) == FieldSet.of(*recursive)


def test_union_and_intersection_keep_members_and_children_apart() -> None:
    a = FieldSet.of(P("a"), P("a", "b"), P("c", "d"))
    b = FieldSet.of(P("a", "b"), P("c"), P("e"))
    assert a.union(b) == FieldSet.of(P("a"), P("a", "b"), P("c"), P("c", "d"), P("e"))
    assert a.intersection(b) == FieldSet.of(P("a", "b"))
    assert a.has(P("a", "b")) and not a.has(P("c")) and b.has(P("c"))
    assert list(a.union(b).paths()) == [P("a"), P("c"), P("e"), P("a", "b"), P("c", "d")]


def _recursive() -> MapType:
    """set_test.go's nestedSchema: a type whose fields (and other keys) are of itself."""
    typ = MapType(
        lambda: {
            "named": typ,
            "list": ListType(typ, ASSOCIATIVE, ("name",)),
            "value": Scalar(NUMERIC),
        }
    )
    typ.element = typ
    return typ


@pytest.mark.parametrize(
    "paths,expected",
    [
        (
            [P("named", "named", "value")],
            [P("named", "named", "value"), P("named", "named"), P("named")],
        ),
        (
            [P("named", "a", "named", "value"), P("a", "named", "value"), P("a", "b", "value")],
            [
                P("named", "a", "named", "value"),
                P("named", "a", "named"),
                P("named"),
                P("a", "named", "value"),
                P("a", "named"),
                P("a", "b", "value"),
            ],
        ),
        (
            [P("named", "list", {"name": "a"}, "named", "a", "value")],
            [
                P("named", "list", {"name": "a"}, "named", "a", "value"),
                P("named", "list", {"name": "a"}, "named"),
                P("named", "list"),
                P("named"),
            ],
        ),
    ],
)
def test_ensure_named_fields_are_members(
    paths: list[tuple[str, ...]], expected: list[tuple[str, ...]]
) -> None:
    got = ensure_named_fields_are_members(FieldSet.of(*paths), _recursive())
    assert got == FieldSet.of(*expected)


@pytest.mark.parametrize(
    "path,shown",
    [
        (P("foo", 1), ".foo[1]"),
        (P("foo", "bar", 1, "baz"), ".foo.bar[1].baz"),
        (P("foo", {"a": "b", "c": 1, "d": 1.5, "e": True}), '.foo[a="b",c=1,d=1.5,e=true]'),
        (P("foo", V("b"), V(5), V(False), V(3.14159)), '.foo[="b"][=5][=false][=3.14159]'),
        (P("spec", "containers", {"name": "web"}, "image"), '.spec.containers[name="web"].image'),
    ],
)
def test_a_path_prints_as_conflicts_name_it(path: tuple[str, ...], shown: str) -> None:
    assert fieldpath.show(path) == shown


def test_malformed_fields_v1_is_an_error() -> None:
    for text in ("[]", "{", '{"f:a":1}', '{"nocolon":{}}'):
        with pytest.raises(fieldsv1.FieldsError):
            fieldsv1.loads(text)
