"""Validation of ControllerRevisions (kubernetes pkg/apis/apps/validation
ValidateControllerRevision, ValidateControllerRevisionUpdate): a snapshot whose data is
mandatory and never changes once stored, with a non-negative revision number (which its
controller may raise)."""

from __future__ import annotations

import json

from apiserver.validation import fields
from apiserver.validation.fields import FieldError
from apiserver.validation.generic_rules import Shown, nonnegative
from apiserver.validation.meta import object_meta
from podplane.api.apps.v1 import apps_pb2
from podplane.apimachinery.json_types import JSONValue


def controller_revision(obj: apps_pb2.ControllerRevision) -> list[FieldError]:
    errs = object_meta(obj.metadata, namespaced=True)
    if not obj.data:
        errs.append(fields.required("data", "data is mandatory"))
    elif not _is_json(obj.data):
        # Kubernetes' JSON door cannot take such data (its decoder refuses the body); its
        # protobuf door stores it, and every JSON read of it then fails. Refused at both here.
        errs.append(fields.invalid("data", obj.data, "must be a JSON document"))
    return errs + nonnegative("revision", obj.revision)


def _is_json(data: str) -> bool:
    try:
        json.loads(data)
    except ValueError:
        return False
    return True


def _parsed(data: str) -> JSONValue | str:
    """The data as JSON (the same value whatever the spacing it was sent with)."""
    try:
        value: JSONValue = json.loads(data)
    except ValueError:
        return data
    return value


def controller_revision_update(
    new: apps_pb2.ControllerRevision, old: apps_pb2.ControllerRevision
) -> list[FieldError]:
    errs = controller_revision(new)
    if _parsed(new.data) != _parsed(old.data):
        errs.append(fields.invalid("data", Shown(new.data), "field is immutable"))
    return errs
