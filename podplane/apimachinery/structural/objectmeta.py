"""The metadata of a custom resource and of its embedded resources (apiextensions-apiserver
pkg/apiserver/schema/objectmeta): `metadata` is read as a metav1.ObjectMeta and written back,
so what is not ObjectMeta is dropped, empty fields are omitted and timestamps are normalized to
RFC 3339 in UTC; a field of the wrong JSON type fails with Go's decoding message, or, when
invalid fields are dropped (on reads from etcd and on requests), is dropped alone.

`validate_meta` checks embedded resources' apiVersion and kind (objectmeta/validation.go); the
ObjectMeta rules themselves (names, labels, annotations...) are the apiserver's: it passes them
in as `MetaValidator`."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from podplane.apimachinery.json_types import JSONObject, JSONValue
from podplane.apimachinery.structural.field import (
    FieldError,
    child,
    index,
    invalid,
    key,
    required,
)
from podplane.apimachinery.structural.pruning import as_resource_root
from podplane.apimachinery.structural.schema import Structural

# ValidateObjectMeta(meta, namespaced, path.ValidatePathSegmentName, path) in the apiserver.
MetaValidator = Callable[[JSONObject, bool, str], list[FieldError]]


class MetaDecodeError(ValueError):
    """metadata does not decode into an ObjectMeta; the message is Go's."""


_STRINGS = ("name", "generateName", "namespace", "selfLink", "uid", "resourceVersion")
_OWNER_FIELDS = ("apiVersion", "kind", "name", "uid")
_MANAGED_STRINGS = ("manager", "operation", "apiVersion", "fieldsType", "subresource")
_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|([+-])(\d{2}):(\d{2}))\Z"
)


def _kind(value: JSONValue) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object" if isinstance(value, dict) else "null"


def _fail(value: JSONValue, struct: str, go_type: str) -> MetaDecodeError:
    kind = _kind(value)
    if kind == "number" and go_type == "int64" and isinstance(value, float):
        kind = f"number {value}"
    return MetaDecodeError(
        f"json: cannot unmarshal {kind} into Go struct field {struct} of type {go_type}"
    )


def _string(value: JSONValue, where: str) -> str:
    if not isinstance(value, str):
        raise _fail(value, where, "string")
    return value


def _int64(value: JSONValue, where: str) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or (isinstance(value, float) and not value.is_integer())
    ):
        raise _fail(value, where, "int64")
    return int(value)


def _time(value: JSONValue) -> str:
    """metav1.Time: an RFC 3339 time, written back in UTC to the second."""
    if not isinstance(value, str):
        raise MetaDecodeError(f"json: cannot unmarshal {_kind(value)} into Go value of type string")
    m = _RFC3339.match(value)
    if m is None:
        raise MetaDecodeError(
            f'parsing time "{value}" as "2006-01-02T15:04:05Z07:00": cannot parse "{value}" as '
            '"2006"'
        )
    try:
        year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
        moment = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError as e:
        raise MetaDecodeError(f'parsing time "{value}": {e}') from e
    if m.group(8) != "Z":
        offset = timedelta(hours=int(m.group(10)), minutes=int(m.group(11)))
        moment -= offset if m.group(9) == "+" else -offset
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _string_map(value: JSONValue, where: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise _fail(value, where, "map[string]string")
    return {k: _string(v, where) for k, v in value.items() if v is not None} | {
        k: "" for k, v in value.items() if v is None
    }


def _list(value: JSONValue, where: str, go_type: str) -> list[JSONValue]:
    if not isinstance(value, list):
        raise _fail(value, where, go_type)
    return value


def _owner(value: JSONValue, unknown: list[str], where: str) -> JSONObject:
    if not isinstance(value, dict):
        raise _fail(value, "ObjectMeta.ownerReferences", "v1.OwnerReference")
    out: JSONObject = {name: "" for name in _OWNER_FIELDS}
    for name, item in value.items():
        go_field = f"OwnerReference.ownerReferences.{name}"
        if name in _OWNER_FIELDS:
            out[name] = "" if item is None else _string(item, go_field)
        elif name in ("controller", "blockOwnerDeletion"):
            if item is not None and not isinstance(item, bool):
                raise _fail(item, go_field, "bool")
            if item is not None:
                out[name] = item
        else:
            unknown.append(f"{where}.{name}")
    return out


def _managed(value: JSONValue, unknown: list[str], where: str) -> JSONObject:
    if not isinstance(value, dict):
        raise _fail(value, "ObjectMeta.managedFields", "v1.ManagedFieldsEntry")
    out: JSONObject = {}
    for name, item in value.items():
        if item is None:
            continue
        if name in _MANAGED_STRINGS:
            text = _string(item, f"ManagedFieldsEntry.managedFields.{name}")
            if text:
                out[name] = text
        elif name == "time":
            out[name] = _time(item)
        elif name == "fieldsV1":
            out[name] = item
        else:
            unknown.append(f"{where}.{name}")
    return out


def _decode_field(name: str, value: JSONValue, unknown: list[str]) -> JSONValue:
    """One ObjectMeta field decoded and written back (None: omitted)."""
    where = f"ObjectMeta.{name}"
    if value is None:
        return None
    if name in _STRINGS:
        return _string(value, where) or None
    if name == "generation":
        return _int64(value, where) or None
    if name == "deletionGracePeriodSeconds":
        return _int64(value, where)
    if name in ("creationTimestamp", "deletionTimestamp"):
        return _time(value)
    if name in ("labels", "annotations"):
        return _string_map(value, where) or None
    if name == "finalizers":
        return [_string(v, where) for v in _list(value, where, "[]string")] or None
    if name == "ownerReferences":
        items = _list(value, where, "[]v1.OwnerReference")
        return [
            _owner(v, unknown, f"metadata.ownerReferences[{i}]") for i, v in enumerate(items)
        ] or None
    if name == "managedFields":
        items = _list(value, where, "[]v1.ManagedFieldsEntry")
        return [
            _managed(v, unknown, f"metadata.managedFields[{i}]") for i, v in enumerate(items)
        ] or None
    unknown.append(f"metadata.{name}")
    return None


def decode_object_meta(
    metadata: JSONValue, drop_malformed: bool, prefix: str = ""
) -> tuple[JSONObject, list[str]]:
    """GetObjectMetaWithOptions: `metadata` as ObjectMeta writes it back, and the paths of its
    unknown fields (`metadata.foo`, under `prefix`). Raises MetaDecodeError, unless
    `drop_malformed`, which drops each malformed field instead."""
    if not isinstance(metadata, dict):
        if drop_malformed:
            raise MetaDecodeError(f"invalid metadata: expected object, got {_kind(metadata)}")
        raise MetaDecodeError(
            f"json: cannot unmarshal {_kind(metadata)} into Go value of type v1.ObjectMeta"
        )
    out: JSONObject = {}
    unknown: list[str] = []
    for name, value in metadata.items():
        try:
            decoded = _decode_field(name, value, unknown)
        except MetaDecodeError:
            if not drop_malformed:
                raise
            continue
        if decoded is not None:
            out[name] = decoded
    if prefix:
        unknown = [f"{prefix}.{u}" for u in unknown]
    return out, unknown


# ------------------------------------------------------------------ coercion (algorithm.go)
def coerce(
    path: str | None,
    obj: JSONValue,
    s: Structural | None,
    is_resource_root: bool,
    drop_invalid_fields: bool,
) -> tuple[FieldError | None, list[str]]:
    """CoerceWithOptions: rewrite the metadata of `obj`'s embedded resources (and its own, as a
    resource root) as ObjectMeta, in place. The first error (none when invalid fields are
    dropped), and the unknown metadata fields' paths, sorted."""
    if is_resource_root:
        s = as_resource_root(s)
    unknown: list[str] = []
    err = _coerce(path, obj, s, drop_invalid_fields, unknown)
    return err, sorted(unknown)


def _coerce(
    path: str | None, x: JSONValue, s: Structural | None, drop: bool, unknown: list[str]
) -> FieldError | None:
    if s is None:
        return None
    base = path or ""
    if isinstance(x, dict):
        for k in list(x):
            if k not in x:
                continue
            v = x[k]
            if s.embedded_resource and k in ("apiVersion", "kind") and not isinstance(v, str):
                if not drop:
                    return invalid(child(base, k), v, "must be a string")
                del x[k]
            elif s.embedded_resource and k == "metadata":
                try:
                    meta, paths = decode_object_meta(v, drop, base)
                except MetaDecodeError as e:
                    if not drop:
                        return invalid(child(base, "metadata"), v, str(e))
                else:
                    unknown.extend(paths)
                    x["metadata"] = meta
            prop = s.properties.get(k)
            if prop is not None and k in x:
                err = _coerce(child(base, k), x[k], prop, drop, unknown)
            elif s.additional_properties is not None and k in x:
                err = _coerce(key(base, k), x[k], s.additional_properties.schema, drop, unknown)
            else:
                err = None
            if err is not None:
                return err
    elif isinstance(x, list):
        for i, item in enumerate(x):
            err = _coerce(index(base, i), item, s.items, drop, unknown)
            if err is not None:
                return err
    return None


# ------------------------------------------------------------------ validation (validation.go)
_GROUP_VERSION_ERROR = "unexpected GroupVersion string: "
_DNS1035 = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?\Z")
_DNS1035_MSG = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
    "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or "
    "'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
)


def validate_meta(
    path: str,
    obj: JSONValue,
    s: Structural | None,
    is_resource_root: bool,
    meta_validator: MetaValidator | None = None,
) -> list[FieldError]:
    """objectmeta.Validate: each embedded resource (and `obj` itself as a resource root) has a
    string apiVersion that is a group version, a kind that is a DNS-1035 label in any case,
    and metadata that decodes and passes `meta_validator`."""
    if is_resource_root:
        s = as_resource_root(s)
    return _validate(path, obj, s, meta_validator)


def _validate(
    path: str, x: JSONValue, s: Structural | None, meta_validator: MetaValidator | None
) -> list[FieldError]:
    if s is None:
        return []
    errs: list[FieldError] = []
    if isinstance(x, dict):
        if s.embedded_resource:
            errs += _embedded(path, x, meta_validator)
        for k, v in x.items():
            prop = s.properties.get(k)
            if prop is not None:
                errs += _validate(child(path, k), v, prop, meta_validator)
            elif s.additional_properties is not None:
                errs += _validate(key(path, k), v, s.additional_properties.schema, meta_validator)
    elif isinstance(x, list):
        for i, item in enumerate(x):
            errs += _validate(index(path, i), item, s.items, meta_validator)
    return errs


def _embedded(path: str, x: JSONObject, meta_validator: MetaValidator | None) -> list[FieldError]:
    errs: list[FieldError] = []
    for name in ("apiVersion", "kind"):
        if name not in x:
            errs.append(required(child(path, name), "must not be empty"))
    for k, v in x.items():
        if k in ("apiVersion", "kind"):
            if not isinstance(v, str):
                errs.append(invalid(child(path, k), v, "must be a string"))
            elif not v:
                errs.append(invalid(child(path, k), v, "must not be empty"))
            elif k == "apiVersion" and v.count("/") > 1:
                errs.append(invalid(child(path, k), v, _GROUP_VERSION_ERROR + v))
            elif k == "kind" and (len(v) > 63 or not _DNS1035.match(v.lower())):
                detail = "must be no more than 63 characters" if len(v) > 63 else _DNS1035_MSG
                errs.append(
                    invalid(
                        child(path, k),
                        v,
                        "may have mixed case, but should otherwise match: " + detail,
                    )
                )
        elif k == "metadata":
            try:
                meta, _ = decode_object_meta(v, drop_malformed=False)
            except MetaDecodeError as e:
                errs.append(invalid(child(path, "metadata"), v, str(e)))
                continue
            if meta_validator is not None:
                meta.setdefault("name", "fakename")  # as Kubernetes, to avoid a Required error
                errs += meta_validator(meta, bool(meta.get("namespace")), child(path, "metadata"))
    return errs
