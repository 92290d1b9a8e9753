"""LimitRange validation (kubernetes pkg/apis/core/validation ValidateLimitRange): each item's
type a standard limit type or fully qualified, once; its resource names those of its type; no
defaults for type Pod; a storage bound for PersistentVolumeClaim; and min <= defaultRequest <=
default <= max, a ratio at least 1 and at most max/min. Go walks a map of keys; the keys here
are sorted."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from apiserver.validation import fields
from apiserver.validation.fields import FieldError
from apiserver.validation.meta import object_meta
from apiserver.validation.resource_names import (
    container_resource_name,
    native,
    parsed,
    resource_name,
)
from podplane.api.core.v1 import quota_pb2
from podplane.apimachinery import quantity

LIMIT_TYPES = ("Pod", "Container", "PersistentVolumeClaim")
_BOUNDS = ("max", "min", "default", "default_request", "max_limit_request_ratio")
_JSON = {"default_request": "defaultRequest", "max_limit_request_ratio": "maxLimitRequestRatio"}
NO_POD_DEFAULTS = "may not be specified when `type` is 'Pod'"
NO_STORAGE = "either minimum or maximum storage value is required, but neither was provided"


def _type_name(path: str, value: str) -> list[FieldError]:
    errs = fields.qualified_name(path, value)
    if not errs and "/" not in value and value not in LIMIT_TYPES:
        errs.append(fields.invalid(path, value, "must be a standard limit type or fully qualified"))
    return errs


def _overcommit_allowed(name: str) -> bool:
    """IsOvercommitAllowed: native resources but huge pages."""
    return native(name) and not name.startswith("hugepages-")


def _text(value: str) -> str:
    return quantity.canonical_text(value)


def _ordering(path: str, key: str, given: Mapping[str, Mapping[str, str]]) -> list[FieldError]:
    """The comparisons between one resource's bounds, each shown as Go writes the quantity."""
    q: dict[str, Decimal] = {}
    for bound in _BOUNDS:
        if key in given[bound]:
            value, _ = parsed("", given[bound][key])
            if value is None:
                return []  # reported as no quantity
            q[bound] = value
    text = {b: _text(given[b][key]) for b in q}
    errs: list[FieldError] = []

    def check(failed: bool, at: str, shown: str, detail: str) -> None:
        if failed:
            errs.append(fields.invalid(f"{path}.{_JSON.get(at, at)}[{key}]", text[shown], detail))

    lo, hi = q.get("min"), q.get("max")
    d, dr, ratio = q.get("default"), q.get("default_request"), q.get("max_limit_request_ratio")
    t = text.get
    if lo is not None and hi is not None:
        check(lo > hi, "min", "min", f"min value {t('min')} is greater than max value {t('max')}")
    if dr is not None and lo is not None:
        detail = (
            f"min value {t('min')} is greater than default request value {t('default_request')}"
        )
        check(lo > dr, "default_request", "default_request", detail)
    if dr is not None and hi is not None:
        detail = (
            f"default request value {t('default_request')} is greater than max value {t('max')}"
        )
        check(dr > hi, "default_request", "default_request", detail)
    if dr is not None and d is not None:
        detail = (
            f"default request value {t('default_request')} is greater than default limit value "
            f"{t('default')}"
        )
        check(dr > d, "default_request", "default_request", detail)
    if d is not None and lo is not None:
        detail = f"min value {t('min')} is greater than default value {t('default')}"
        check(lo > d, "default", "min", detail)
    if d is not None and hi is not None:
        detail = f"default value {t('default')} is greater than max value {t('max')}"
        check(d > hi, "default", "max", detail)
    r = "max_limit_request_ratio"
    if ratio is not None:
        check(ratio < 1, r, r, f"ratio {t(r)} is less than 1")
        if lo is not None and hi is not None and lo:
            most = hi / lo
            check(ratio > most, r, r, f"ratio {t(r)} is greater than max/min = {float(most):f}")
    if d is not None and dr is not None and not _overcommit_allowed(key):
        detail = (
            f"default value {t('default')} must equal to defaultRequest value "
            f"{t('default_request')} in {key}"
        )
        check(d != dr, "default_request", "default_request", detail)
    return errs


def _names(path: str, item: quota_pb2.LimitRangeItem, bound: str) -> list[FieldError]:
    """Each resource name of one bound, and each value a quantity."""
    rule = container_resource_name if item.type in ("Pod", "Container") else resource_name
    errs: list[FieldError] = []
    values: Mapping[str, str] = getattr(item, bound)
    for key in sorted(values):
        p = f"{path}.{_JSON.get(bound, bound)}[{key}]"
        errs += rule(p, key) + parsed(p, values[key])[1]
    return errs


def _item(path: str, item: quota_pb2.LimitRangeItem) -> list[FieldError]:
    errs = _names(path, item, "max") + _names(path, item, "min")
    given: dict[str, Mapping[str, str]] = {b: getattr(item, b) for b in _BOUNDS}
    if item.type == "Pod":
        for bound in ("default", "default_request"):
            if given[bound]:
                errs.append(fields.forbidden(f"{path}.{_JSON.get(bound, bound)}", NO_POD_DEFAULTS))
            given[bound] = {}
    else:
        errs += _names(path, item, "default") + _names(path, item, "default_request")
    if item.type == "PersistentVolumeClaim" and not {"storage"} & (set(item.min) | set(item.max)):
        errs.append(fields.required(f"{path}.limits", NO_STORAGE))
    errs += _names(path, item, "max_limit_request_ratio")
    for key in sorted({k for b in _BOUNDS for k in given[b]}):
        errs += _ordering(path, key, given)
    return errs


def limit_range(obj: quota_pb2.LimitRange) -> list[FieldError]:
    errs = object_meta(obj.metadata, namespaced=True)
    seen: set[str] = set()
    for i, item in enumerate(obj.spec.limits):
        path = f"spec.limits[{i}]"
        errs += _type_name(f"{path}.type", item.type)
        if item.type in seen:
            errs.append(fields.duplicate(f"{path}.type", item.type))
        seen.add(item.type)
        errs += _item(path, item)
    return errs


def limit_range_update(new: quota_pb2.LimitRange, old: quota_pb2.LimitRange) -> list[FieldError]:
    return limit_range(new)
