"""What a kind's creates name their top-level fields by, so that fieldmanager/creation.py's
CreateRecorder walks a part only the first time it is seen: the granular messages by their bytes
(a spec: pods made from one template share it byte for byte), the metadata by what managers own
of it (the name, uid and the rest stripped: the pods of a ReplicaSet, a scheduler's events), and
the fields owned whole (an event's reason, message and involvedObject) by the field alone, whose
part is one member whatever value differs from the empty object's. A field that may hold JSON
text (a RawExtension) is not left unencoded: a create whose text is not JSON records nothing.

An object all of whose fields have keys has a signature (those keys together), by which its whole
text is remembered: a scheduler's events after the first are recorded without encoding a part."""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable, Sequence

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import codec
from podplane.apimachinery.codec.schema import INLINE_JSON, RAW_JSON_FORMATS, field_schema
from podplane.apimachinery.fieldmanager.creation import Keyed
from podplane.apimachinery.fieldmanager.manager import STRIPPED_METADATA, FieldManager
from podplane.apimachinery.fieldmanager.schema import (
    ATOMIC,
    ListType,
    MapType,
    ScalarType,
    Type,
    UntypedType,
)
from podplane.apimachinery.json_types import JSONObject, JSONValue

# A field owned whole: one part whatever its value (encoded on a miss by the field's name).
_WHOLE = Keyed("<whole>")


class CreateKeys:
    """One kind's keys."""

    def __init__(
        self, descriptor: Descriptor, messages: list[FieldDescriptor], manager: FieldManager
    ) -> None:
        """`messages`: the kind's top-level message fields (metadata, spec, status)."""
        self.manager = manager
        self._keyed = _memoised(messages, manager)
        whole = _whole(descriptor.fields, manager)
        # Those the empty object has no value for are owned whenever set; the others only when
        # their value is not the empty one.
        self._whole_keyed = {f.number: _WHOLE for f in whole if f.json_name not in manager.empty}
        self._whole_in_empty = [f for f in whole if f.json_name in manager.empty]
        meta = descriptor.fields_by_name.get("metadata")
        # A custom resource's is the same ObjectMeta.
        self._metadata = (
            meta
            if meta is not None and meta.message_type is meta_pb2.ObjectMeta.DESCRIPTOR
            else None
        )
        # How each top-level field a signature may cover signs, by number; a field set that is
        # not here (one walked whatever its value: a custom object's content) leaves the object
        # without a signature.
        self._signs: dict[int, _Sign] = {f.number: _Sign.BYTES for f in self._keyed}
        self._signs.update(dict.fromkeys(self._whole_keyed, _Sign.SET))
        self._signs.update({f.number: _Sign.NOT_EMPTY for f in self._whole_in_empty})
        # Those the write resets add nothing, but a value that fails to encode (JSON text that
        # is not JSON) would make the create record nothing: only those that cannot.
        reset = manager.reset("").members
        self._signs.update(
            {
                f.number: _Sign.NOTHING
                for f in descriptor.fields
                if "f:" + f.json_name in reset and _encodes_safely(f)
            }
        )
        if self._metadata is not None:
            self._signs[self._metadata.number] = _Sign.METADATA

    def signature(self, obj: Message) -> tuple[object, ...] | None:
        """What determines the whole text of the object's create, when every field it sets has
        a key here (None otherwise): the keys of its parts, top() without encoding anything.
        A field not set adds nothing (written, it is as the empty object has it), nor does a
        field the write resets; one owned whole adds its number, set (or, where the empty
        object has a value, not empty)."""
        signs = self._signs
        out: list[object] = []
        for f, value in obj.ListFields():
            number = f.number
            sign = signs.get(number)
            if sign is None:
                return None
            if sign is _SET:
                out.append(number)
            elif sign is _BYTES:
                out.append((number, value.SerializeToString(deterministic=True)))
            elif sign is _METADATA:
                out.append((number, _metadata_key(value)))
            elif sign is _NOT_EMPTY and _not_empty(obj, f):
                out.append(number)
        return tuple(out)

    def top(self, obj: Message) -> JSONObject:
        """The object's top-level fields for CreateRecorder.entries, Keyed where a key names
        them; raises ValueError as codec.encode does."""
        keyed: dict[int, object] = {}
        empty_ones = []
        for f in self._keyed:
            if obj.HasField(f.name):
                value = getattr(obj, f.name)
                key = value.SerializeToString(deterministic=True)
                keyed[f.number] = Keyed(key, functools.partial(_encode_part, value))
            elif f.json_name in self.manager.empty:
                # Not set, written as the empty object has it (an event's source, {}, which
                # the scheduler's events.k8s.io-style events leave out): it adds nothing.
                empty_ones.append(f.json_name)
        meta = self._metadata
        if meta is not None:
            keyed[meta.number] = Keyed(_metadata_key(getattr(obj, meta.name)))
        # encode_substituting substitutes only the fields set. Those the empty object has are
        # owned whole when not empty, and add nothing when written as the empty object has
        # them (not set); set but empty, they are compared as they are.
        keyed.update(self._whole_keyed)
        for f in self._whole_in_empty:
            if _not_empty(obj, f):
                keyed[f.number] = _WHOLE
            else:
                empty_ones.append(f.json_name)
        top = codec.encode_substituting(obj, keyed)
        empty = self.manager.empty
        for name in empty_ones:
            value, theirs = top.get(name), empty[name]
            if type(value) is type(theirs) and value == theirs:
                del top[name]
        return top

    @staticmethod
    def encoder(obj: Message) -> Callable[[str], JSONValue]:
        """What encodes a top-level field of `obj` by its name on a miss (raises
        Unencodable)."""
        return functools.partial(_encode_field, obj)


def _memoised(fields: list[FieldDescriptor], manager: FieldManager) -> list[FieldDescriptor]:
    """The top-level messages whose part of a create's entry is memoised by their bytes: the
    granular structs (a spec: pods made from one template share it byte for byte), not
    metadata (a name, a uid, owners: new each time), not what the write resets (recorded for
    no one), and not an atomic struct (an event's involvedObject), whose part is one member
    whatever its value, and whose value seldom repeats."""
    typ = manager.type
    if not isinstance(typ, MapType):
        return []
    reset = manager.reset("").members
    out = []
    for f in fields:
        field_type = typ.field(f.json_name)
        if (
            f.json_name != "metadata"
            and "f:" + f.json_name not in reset
            and isinstance(field_type, MapType)
            and not field_type.atomic
        ):
            out.append(f)
    return out


def _owned_whole(typ: Type | None) -> bool:
    """Whether a field of this type is owned as one leaf whatever its value: a scalar, an
    atomic map or list, an untyped value that is not deduced (schema.py's kinds)."""
    if isinstance(typ, ScalarType):
        return True
    if isinstance(typ, MapType):
        return typ.atomic
    if isinstance(typ, ListType):
        return typ.list_type == ATOMIC
    return isinstance(typ, UntypedType) and not typ.deduced


def _whole(fields: Sequence[FieldDescriptor], manager: FieldManager) -> list[FieldDescriptor]:
    """The top-level fields whose part of a create's entry is memoised by the field alone: those
    owned whole (an event's reason, message and involvedObject), whose part is one member
    whatever value a create gives them that differs from the empty object's, and that the write
    does not reset."""
    typ = manager.type
    if not isinstance(typ, MapType):
        return []
    reset = manager.reset("").members
    return [
        f
        for f in fields
        if "f:" + f.json_name not in reset
        and _owned_whole(typ.field(f.json_name))
        and _encodes_safely(f)
    ]


def _encodes_safely(f: FieldDescriptor) -> bool:
    """Whether codec.encode cannot refuse a value of this field: no JSON text in it (a
    RawExtension, whose text the gRPC door takes unparsed) at any depth. A create whose field
    holds text that is not JSON records nothing, so such a field is not left unencoded."""
    if field_schema(f).format in _JSON_TEXT:
        return False
    return f.message_type is None or _message_encodes_safely(f.message_type)


@functools.cache
def _message_encodes_safely(descriptor: Descriptor) -> bool:
    """_encodes_safely for every field of the message, at any depth (a message met again
    further down, as JSONSchemaProps holds its own kind, is judged where it was first met)."""
    seen = {descriptor}
    pending = [descriptor]
    while pending:
        for f in pending.pop().fields:
            if field_schema(f).format in _JSON_TEXT:
                return False
            if f.message_type is not None and f.message_type not in seen:
                seen.add(f.message_type)
                pending.append(f.message_type)
    return True


_JSON_TEXT = RAW_JSON_FORMATS | {INLINE_JSON}


def _not_empty(obj: Message, f: FieldDescriptor) -> bool:
    """Whether a field's value is not its type's empty one, so that its JSON differs from what
    the kind's empty object has there (an event's involvedObject `{}`, reportingComponent "")."""
    value = getattr(obj, f.name)
    if f.message_type is not None and not f.is_repeated:
        return bool(value.ByteSize())
    return bool(value)


def _metadata_key(meta: meta_pb2.ObjectMeta) -> bytes:
    """The metadata as far as managed fields go: without the fields no manager owns (the name,
    namespace, uid, ...: manager.STRIPPED), so that the objects of one template (the pods of a
    ReplicaSet, a scheduler's events) name the same part."""
    if all(f.name in _UNOWNED_META_NAMES for f, _ in meta.ListFields()):
        return b""  # nothing owned (an event's name and namespace): an empty message's bytes
    kept = meta_pb2.ObjectMeta()
    kept.CopyFrom(meta)
    for name in _UNOWNED_META:
        kept.ClearField(name)
    return kept.SerializeToString(deterministic=True)


# ObjectMeta's fields no manager owns (manager.STRIPPED), by their message names.
_UNOWNED_META = tuple(
    f.name for f in meta_pb2.ObjectMeta.DESCRIPTOR.fields if f.json_name in STRIPPED_METADATA
)
_UNOWNED_META_NAMES = frozenset(_UNOWNED_META)


class Unencodable(Exception):
    """A keyed field's value codec.encode refused (ValueError), told apart from the errors
    of the field manager's own steps, which the general path does not catch either."""


def _encode_part(message: Message) -> JSONObject:
    try:
        return codec.encode(message)
    except ValueError as e:
        raise Unencodable(str(e)) from e


def _encode_field(obj: Message, json_name: str) -> JSONValue:
    """One top-level field's JSON (a memo's miss: once per field and kind, not per create)."""
    try:
        return codec.encode(obj)[json_name]
    except ValueError as e:
        raise Unencodable(str(e)) from e


class _Sign(enum.Enum):
    """What a set top-level field adds to a create's signature (CreateKeys.signature)."""

    BYTES = enum.auto()  # a granular message: its bytes
    METADATA = enum.auto()  # the metadata: what managers own of it
    SET = enum.auto()  # owned whole, the empty object without it: its number
    NOT_EMPTY = enum.auto()  # owned whole, the empty object with it: its number, if not empty
    NOTHING = enum.auto()  # reset by the write: recorded for no one


_BYTES, _METADATA, _SET, _NOT_EMPTY = _Sign.BYTES, _Sign.METADATA, _Sign.SET, _Sign.NOT_EMPTY
