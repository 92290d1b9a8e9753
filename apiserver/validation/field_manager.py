"""The rules of a write's field manager and of an object's managed fields
(k8s.io/apimachinery's ValidateFieldManager and ValidateManagedFields): a manager is at most 128
bytes of printable characters; an entry's operation is Apply or Update, its fieldsType FieldsV1,
its subresource at most 256 bytes."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from apiserver.validation.fields import FieldError, invalid
from podplane.api.meta.v1 import meta_pb2

# FieldManagerMaxLength, MaxSubresourceNameLength.
MAX_FIELD_MANAGER_BYTES = 128
MAX_SUBRESOURCE_BYTES = 256


def is_print(char: str) -> bool:
    """Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space."""
    return char == " " or unicodedata.category(char)[0] in "LMNPS"


def _too_long(path: str, limit: int) -> FieldError:
    return FieldError(path, "Too long", None, f"must have at most {limit} bytes")


def field_manager(value: str, path: str = "fieldManager") -> list[FieldError]:
    if len(value) <= MAX_FIELD_MANAGER_BYTES and value.isascii() and value.isprintable():
        return []  # nearly every manager: no need to look at each character
    errs: list[FieldError] = []
    if len(value.encode()) > MAX_FIELD_MANAGER_BYTES:
        errs.append(_too_long(path, MAX_FIELD_MANAGER_BYTES))
    position = 0
    for char in value:
        if not is_print(char):
            errs.append(
                invalid(
                    path, value, f"invalid character U+{ord(char):04X} (at position {position})"
                )
            )
        position += len(char.encode())
    return errs


def managed_fields(
    entries: Iterable[meta_pb2.ManagedFieldsEntry], path: str = "metadata.managedFields"
) -> list[FieldError]:
    errs: list[FieldError] = []
    for i, entry in enumerate(entries):
        at = f"{path}[{i}]"
        if entry.operation not in ("Apply", "Update"):
            errs.append(invalid(f"{at}.operation", entry.operation, "must be `Apply` or `Update`"))
        if entry.fields_type and entry.fields_type != "FieldsV1":
            errs.append(invalid(f"{at}.fieldsType", entry.fields_type, "must be `FieldsV1`"))
        errs += field_manager(entry.manager, f"{at}.manager")
        if len(entry.subresource.encode()) > MAX_SUBRESOURCE_BYTES:
            errs.append(_too_long(f"{at}.subresource", MAX_SUBRESOURCE_BYTES))
    return errs
