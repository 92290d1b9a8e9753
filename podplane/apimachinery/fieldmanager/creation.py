"""The managed fields of a create whose request gives none, nearly every create (a controller's
pods, the scheduler's events): what FieldManager.update records then, computed without the
Updater's bookkeeping, which has no other manager to take fields from.

With no managers before it, the create's manager owns what the object adds to or changes of the
kind's empty object, less the fields the write resets (a main resource's status) and those no
manager owns (STRIPPED). That set, and its FieldsV1 text, is made a top-level field at a time:
each field's part depends on that field's value alone. So a field the caller names by a key
(a message's serialized bytes) has its text memoised: pods of one template, a ReplicaSet's or a
Job's, share a spec byte for byte, and its walk and text were most of each create's cost."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import TypeVar

from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery.fieldmanager import fieldsv1, managed
from podplane.apimachinery.fieldmanager.compare import compare
from podplane.apimachinery.fieldmanager.manager import STRIPPED, UNKNOWN, FieldManager
from podplane.apimachinery.json_types import JSONObject, JSONValue

K = TypeVar("K", bound=Hashable)

# Texts memoised per kind, the least recently used dropped first. A pod spec's key and text are
# a few KB at most, so a full memo is a megabyte or less; the templates making pods at any one
# time are far fewer.
MEMO_SIZE = 256


@dataclass(frozen=True, slots=True)
class Keyed:
    """A top-level field's value, named by a key that determines its text (equal keys, equal
    texts): `encode` gives the value when its text is not memoised (None: the `encode_field`
    given to CreateRecorder.entries does), and may raise."""

    key: Hashable
    encode: Callable[[], JSONValue] | None = None


class CreateRecorder:
    """The entries a create records, memoising the text of each Keyed field."""

    def __init__(self, manager: FieldManager, memo_size: int = MEMO_SIZE) -> None:
        self.manager = manager
        self.memo_size = memo_size
        self._reset = manager.reset("")
        # (field name, key) -> the field's element text, "" when it adds nothing.
        self._memo: OrderedDict[tuple[str, Hashable], str] = OrderedDict()
        # A signature (what determines a whole create's text) -> that text, "" for no entry.
        self._signed: OrderedDict[Hashable, str] = OrderedDict()

    def remembered(self) -> int:
        """How many fields' texts are memoised (at most memo_size)."""
        return len(self._memo)

    def signed_entries(
        self,
        signature: Hashable,
        manager: str,
        entries: Callable[[], list[meta_pb2.ManagedFieldsEntry]],
    ) -> list[meta_pb2.ManagedFieldsEntry]:
        """The entries of a create whose whole text `signature` determines (the caller's key:
        equal signatures, equal texts): remembered by it, made by `entries` the first time
        (its exceptions propagate, nothing remembered)."""
        text = self._signed.get(signature)
        if text is None:
            made = entries()
            self._remember(self._signed, signature, made[0].fields_v1 if made else "")
            return made
        self._signed.move_to_end(signature)
        return self._entries(text, manager)

    def entries(
        self,
        obj: JSONObject,
        manager: str,
        encode_field: Callable[[str], JSONValue] | None = None,
    ) -> list[meta_pb2.ManagedFieldsEntry]:
        """The managed fields FieldManager.update(None, obj, (), (), manager) gives, for `obj`
        with Keyed values in place of some top-level fields' (the exceptions their `encode`,
        or `encode_field` given a field's name for a Keyed without one, raise propagate)."""
        memo = self._memo
        texts: dict[str, str] = {}
        rest: JSONObject = {}
        missed: list[tuple[str, Hashable]] = []
        reset = self._reset.members
        for name, value in obj.items():
            if "f:" + name in reset:
                continue  # recorded for no one, whatever it holds
            if not isinstance(value, Keyed):
                rest[name] = value
                continue
            memo_key = (name, value.key)
            text = memo.get(memo_key)
            if text is None:  # walked with the rest, then remembered
                if value.encode is not None:
                    rest[name] = value.encode()
                else:
                    assert encode_field is not None, "a Keyed without encode needs encode_field"
                    rest[name] = encode_field(name)
                missed.append(memo_key)
            else:
                memo.move_to_end(memo_key)
                if text:
                    texts["f:" + name] = text
        if rest:
            found = self._texts(rest)
            texts.update(found)
            for memo_key in missed:
                self._remember(memo, memo_key, found.get("f:" + memo_key[0], ""))
        return self._entries(fieldsv1.join(texts) if texts else "", manager)

    def _entries(self, text: str, manager: str) -> list[meta_pb2.ManagedFieldsEntry]:
        """The create's manager's entry owning `text` (FieldsV1), none when it owns nothing."""
        if not text:
            return []
        fm = self.manager
        return [managed.update_entry(manager or UNKNOWN, fm.api_version, fm.clock(), text)]

    def _remember(self, memo: OrderedDict[K, str], key: K, text: str) -> None:
        """`text` memoised under `key`, the least recently used dropped past memo_size."""
        memo[key] = text
        if len(memo) > self.memo_size:
            memo.popitem(last=False)

    def _texts(self, part: JSONObject) -> dict[str, str]:
        """The element texts of the fields the create's manager gets of `part` (some top-level
        fields of the object). Compared with the same fields of the empty object, as the whole
        object would be: a top-level field's changes depend on nothing else."""
        empty = self.manager.empty
        before = {name: empty[name] for name in part if name in empty}
        comparison = compare(before, part, self.manager.type)
        fields = comparison.modified.union(comparison.added)
        fields = fields.recursive_difference(self._reset).difference(STRIPPED)
        return fieldsv1.element_texts(fields)
