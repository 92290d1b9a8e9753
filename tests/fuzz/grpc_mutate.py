"""Structure-aware mutation of protobuf messages for the gRPC door: a field anywhere in the message
(set or not, at any depth) given an odd value for its type, cleared, or, when repeated or a map,
duplicated, emptied or grown by an odd entry; and the byte-level damage no typed client can send
(truncation, flipped bits, invalid UTF-8 inside a string field). Every choice comes from the
caller's random.Random, so a seed gives the same messages."""

from __future__ import annotations

import random
from dataclasses import dataclass

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

# Values a careless client or an attacker puts in a string field: empty, blank, at and past the
# name and label limits (63, 253), past the annotation limit (256 KiB), emoji, NUL and control
# characters, U+FFFD (what a lone surrogate becomes in Go's decoder), wrong enum spellings,
# selector and path syntax where a name belongs, numbers where text belongs.
ODD_STRINGS: tuple[str, ...] = (
    "",
    " ",
    "a" * 63,
    "a" * 64,
    "a" * 253,
    "a" * 254,
    "💥",
    "\U0001f4a5" * 40,
    "\x00",
    "a\x00b",
    "\t\n\r",
    "\x07\x1b[31m",
    "\x7f",
    "\u200b",
    "\ufffd",
    "e\u0301",
    "-leading",
    "trailing-",
    "UPPER",
    "a_b",
    "a/b/c",
    "..",
    ".",
    "../../etc/passwd",
    "a=b,c!=d",
    "in (x",
    "=",
    "!",
    "\\",
    "'\"",
    "%00",
    "${HOME}",
    "null",
    "true",
    "-1",
    "0",
    "9999999999999999999",
    "1e400",
    "NaN",
    "always",
    "Sometimes",
    "tcp",
    "ReadWriteSometimes",
    "100Gi",
    "-100Mi",
    "1.5.5.5",
    "::1",
    "256.256.256.256",
    "10.0.0.0/33",
    "2026-13-45T25:61:61Z",
)
ODD_LABEL_KEYS: tuple[str, ...] = (
    "app",
    "",
    "-a",
    "a-",
    "a" * 64,
    "example.com/" + "a" * 63,
    "example.com/" + "a" * 64,
    "a" * 254 + "/x",
    "UPPER.example.com/x",
    "a/b/c",
    "/x",
    "x/",
    "kubernetes.io/x",
    "💥",
    "a b",
    "a\x00",
)
# Past 256 KiB (the total of a label or annotation map), and past etcd's 1.5 MiB object limit
# while under the 3 MiB request limit: rare, they cost a megabyte each.
HUGE_STRINGS: tuple[str, ...] = ("x" * (260 * 1024), "y" * (1600 * 1024))

_INT_LIMITS = {
    FieldDescriptor.TYPE_INT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SINT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SFIXED32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_UINT32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_FIXED32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_INT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SINT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SFIXED64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_UINT64: (0, 2**64 - 1),
    FieldDescriptor.TYPE_FIXED64: (0, 2**64 - 1),
}
_ODD_INTS = (0, -1, 1, -(2**31), 2**31 - 1, 2**32, -(2**63), 2**63 - 1, 65535, 65536, 10**9)
# Encodings of what is not UTF-8: a lone surrogate as Python's "surrogatepass" writes it (how a
# lone surrogate reaches this door), a stray continuation byte, an overlong NUL, 0xff.
INVALID_UTF8: tuple[bytes, ...] = (b"\xed\xa0\xbd", b"\x80", b"\xc0\x80", b"\xff")


def _entry(f: FieldDescriptor) -> Descriptor:
    """The message type of a message field (a map's entry type for a map)."""
    assert f.message_type is not None, f.full_name
    return f.message_type


def _is_map(f: FieldDescriptor) -> bool:
    return f.message_type is not None and f.message_type.GetOptions().map_entry


@dataclass(frozen=True)
class _Slot:
    """One field of one message inside the request: where a mutation lands."""

    owner: Message
    field: FieldDescriptor
    path: str


def _slots(msg: Message, path: str, depth: int) -> list[_Slot]:
    """Every field of `msg` and of the messages set inside it, set or not."""
    out: list[_Slot] = []
    fields: list[FieldDescriptor] = list(msg.DESCRIPTOR.fields)  # type: ignore[arg-type]
    for f in fields:
        here = f"{path}.{f.name}" if path else f.name
        out.append(_Slot(msg, f, here))
        if depth == 0 or f.type != FieldDescriptor.TYPE_MESSAGE:
            continue
        value = getattr(msg, f.name)
        if _is_map(f):
            value_field = _entry(f).fields_by_name["value"]
            if value_field.type == FieldDescriptor.TYPE_MESSAGE:
                for key in value:
                    out += _slots(value[key], f"{here}[{key}]", depth - 1)
        elif f.is_repeated:
            for i, item in enumerate(value):
                out += _slots(item, f"{here}[{i}]", depth - 1)
        elif msg.HasField(f.name):
            out += _slots(value, here, depth - 1)
    return out


def odd_string(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.01:
        return rng.choice(HUGE_STRINGS)
    if roll < 0.15:
        return "".join(chr(rng.randrange(0x20, 0x7F)) for _ in range(rng.randrange(1, 80)))
    if roll < 0.2:
        # Any code point protobuf can carry (surrogates cannot be encoded in UTF-8).
        return "".join(
            chr(rng.choice((rng.randrange(0x80, 0xD800), rng.randrange(0xE000, 0x110000))))
            for _ in range(rng.randrange(1, 20))
        )
    return rng.choice(ODD_STRINGS)


def _odd_int(rng: random.Random, f: FieldDescriptor) -> int:
    low, high = _INT_LIMITS[f.type]
    value = rng.choice(_ODD_INTS) if rng.random() < 0.8 else rng.randrange(low, high)
    return min(max(value, low), high)


def _odd_scalar(rng: random.Random, f: FieldDescriptor) -> object:
    if f.type == FieldDescriptor.TYPE_STRING:
        return odd_string(rng)
    if f.type == FieldDescriptor.TYPE_BYTES:
        return rng.randbytes(rng.randrange(0, 64))
    if f.type == FieldDescriptor.TYPE_BOOL:
        return rng.random() < 0.5
    if f.type in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        return rng.choice((0.0, -1.0, 1e300, float("inf"), float("nan")))
    if f.type == FieldDescriptor.TYPE_ENUM:
        assert f.enum_type is not None, f.full_name
        return rng.choice([v.number for v in f.enum_type.values])
    return _odd_int(rng, f)


def _mutate_map(rng: random.Random, slot: _Slot) -> str:
    mapping = getattr(slot.owner, slot.field.name)
    key_field = _entry(slot.field).fields_by_name["key"]
    value_field = _entry(slot.field).fields_by_name["value"]
    if rng.random() < 0.15:
        mapping.clear()
        return f"{slot.path}: cleared"
    if key_field.type == FieldDescriptor.TYPE_STRING:
        key: object = rng.choice(ODD_LABEL_KEYS) if rng.random() < 0.6 else odd_string(rng)
    else:
        key = _odd_scalar(rng, key_field)
    if value_field.type == FieldDescriptor.TYPE_MESSAGE:
        mapping[key].SetInParent()
        return f"{slot.path}[{key!r:.40}] = {{}}"
    value = _odd_scalar(rng, value_field)
    mapping[key] = value
    return f"{slot.path}[{key!r:.40}] = {value!r:.40}"


def _mutate_repeated(rng: random.Random, slot: _Slot) -> str:
    items = getattr(slot.owner, slot.field.name)
    roll = rng.random()
    if roll < 0.25:
        del items[:]
        return f"{slot.path}: emptied"
    if roll < 0.6 and len(items):
        # The same entry again (a duplicate name, port, key), once or many times.
        copies = rng.choice((1, 2, 100))
        if slot.field.type == FieldDescriptor.TYPE_MESSAGE:
            for _ in range(copies):
                items.add().CopyFrom(items[rng.randrange(len(items))])
        else:
            items.extend([items[rng.randrange(len(items))]] * copies)
        return f"{slot.path}: duplicated x{copies}"
    if slot.field.type == FieldDescriptor.TYPE_MESSAGE:
        items.add()
        return f"{slot.path}: empty entry added"
    value = _odd_scalar(rng, slot.field)
    items.append(value)
    return f"{slot.path} += {value!r:.40}"


def _mutate(rng: random.Random, slot: _Slot) -> str:
    f = slot.field
    if _is_map(f):
        return _mutate_map(rng, slot)
    if f.is_repeated:
        return _mutate_repeated(rng, slot)
    if rng.random() < 0.2:
        slot.owner.ClearField(f.name)
        return f"{slot.path}: cleared"
    if f.type == FieldDescriptor.TYPE_MESSAGE:
        getattr(slot.owner, f.name).SetInParent()
        return f"{slot.path}: set empty"
    value = _odd_scalar(rng, f)
    setattr(slot.owner, f.name, value)
    return f"{slot.path} = {value!r:.40}"


def mutate(rng: random.Random, msg: Message, count: int) -> list[str]:
    """Applies `count` mutations to `msg` in place; returns what each did, for the report."""
    done = []
    for _ in range(count):
        slots = _slots(msg, "", depth=8)
        done.append(_mutate(rng, rng.choice(slots)))
    return done


def with_invalid_utf8(rng: random.Random, msg: Message) -> tuple[bytes, str] | None:
    """`msg` serialized with one of its string fields holding bytes that are not UTF-8 (the
    field is given a marker, whose bytes are then replaced in place, so every length prefix
    stays right); None when `msg` has no string field."""
    slots = [
        s
        for s in _slots(msg, "", depth=8)
        if s.field.type == FieldDescriptor.TYPE_STRING and not s.field.is_repeated
    ]
    if not slots:
        return None
    slot = rng.choice(slots)
    bad = rng.choice(INVALID_UTF8)
    marker = f"\x01mark{rng.randrange(10**6):06d}\x01"
    setattr(slot.owner, slot.field.name, marker)
    data = msg.SerializeToString()
    encoded = marker.encode()
    replacement = (b"v" + bad).ljust(len(encoded), b"v")
    return data.replace(encoded, replacement, 1), f"{slot.path} = {replacement!r}"


def damaged(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    """Bytes of a valid message cut short, with bits flipped, or replaced by random bytes."""
    roll = rng.random()
    if roll < 0.35 and len(data) > 1:
        cut = rng.randrange(1, len(data))
        return data[:cut], f"truncated at {cut} of {len(data)}"
    if roll < 0.7 and data:
        out = bytearray(data)
        flips = rng.randrange(1, 9)
        for _ in range(flips):
            out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
        return bytes(out), f"{flips} bits flipped"
    size = rng.choice((0, 1, 2, 16, 256, 4096))
    return rng.randbytes(size), f"{size} random bytes"
