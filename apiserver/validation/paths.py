"""The path rules of volumes and profiles (kubernetes pkg/apis/core/validation:
validateLocalDescendingPath, validatePathNoBacksteps, ValidateLocalNonReservedPath)."""

from __future__ import annotations

import posixpath

from apiserver.validation import fields
from apiserver.validation.fields import FieldError


def no_backsteps(path: str, value: str) -> list[FieldError]:
    """No '..' element (one error, however many there are)."""
    if ".." in value.split("/"):
        return [fields.invalid(path, value, "must not contain '..'")]
    return []


def local_descending_path(path: str, value: str) -> list[FieldError]:
    """Relative, and no '..' element."""
    errs: list[FieldError] = []
    if posixpath.isabs(value):
        errs.append(fields.invalid(path, value, "must be a relative path"))
    return errs + no_backsteps(path, value)


def local_non_reserved_path(path: str, value: str) -> list[FieldError]:
    """A descending path that does not start with '..' either."""
    errs = local_descending_path(path, value)
    if value.startswith("..") and not value.startswith("../"):
        errs.append(fields.invalid(path, value, "must not start with '..'"))
    return errs
