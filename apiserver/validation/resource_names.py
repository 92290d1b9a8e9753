"""Resource names and quantities as kubernetes pkg/apis/core/validation checks them for limit
ranges and quotas: validateResourceName, validateContainerResourceName,
ValidateResourceQuotaResourceName and ValidateResourceQuantityValue (with pkg/apis/core/helper's
standard names)."""

from __future__ import annotations

import math
from decimal import Decimal

from apiserver.validation import fields
from apiserver.validation.fields import FieldError
from podplane.apimachinery import quantity

_CONTAINER = frozenset({"cpu", "memory", "ephemeral-storage"})
_COUNTS = frozenset(
    {
        "pods",
        "resourcequotas",
        "services",
        "replicationcontrollers",
        "secrets",
        "configmaps",
        "persistentvolumeclaims",
        "services.nodeports",
        "services.loadbalancers",
    }
)
_COMPUTE = frozenset(
    {
        "requests.cpu",
        "requests.memory",
        "requests.ephemeral-storage",
        "limits.cpu",
        "limits.memory",
        "limits.ephemeral-storage",
    }
)
STANDARD = _CONTAINER | _COUNTS | _COMPUTE | {"storage", "requests.storage"}
STANDARD_QUOTA = (STANDARD - {"storage"}) | {"requests.storage"}
HUGE_PAGES = ("hugepages-", "requests.hugepages-")
NOT_INTEGER = "must be an integer"
NEGATIVE = "must be greater than or equal to 0"


def native(name: str) -> bool:
    return "/" not in name or "kubernetes.io/" in name


def extended(name: str) -> bool:
    """IsExtendedResourceName: fully qualified outside kubernetes.io, and requests.<name> a
    qualified name too."""
    if native(name) or name.startswith("requests."):
        return False
    return not fields.qualified_name("", f"requests.{name}")


def resource_name(path: str, name: str) -> list[FieldError]:
    """validateResourceName: a qualified name; a single word one Kubernetes knows."""
    errs = fields.qualified_name(path, name)
    if errs:
        return errs
    if "/" not in name and name not in STANDARD and not name.startswith(HUGE_PAGES):
        return [fields.invalid(path, name, "must be a standard resource type or fully qualified")]
    return []


def container_resource_name(path: str, name: str) -> list[FieldError]:
    """validateContainerResourceName."""
    errs = resource_name(path, name)
    if errs:
        return errs
    if "/" not in name:
        if name not in _CONTAINER and not name.startswith("hugepages-"):
            return [fields.invalid(path, name, "must be a standard resource for containers")]
    elif not native(name) and not extended(name):
        return [fields.invalid(path, name, "doesn't follow extended resource name standard")]
    return []


def quota_resource_name(path: str, name: str) -> list[FieldError]:
    """ValidateResourceQuotaResourceName."""
    errs = resource_name(path, name)
    if "/" not in name and name not in STANDARD_QUOTA and not name.startswith(HUGE_PAGES):
        errs.append(fields.invalid(path, name, "must be a standard resource for quota"))
    return errs


def parsed(path: str, value: str) -> tuple[Decimal | None, list[FieldError]]:
    try:
        return quantity.parse(value), []
    except quantity.QuantityError as e:
        return None, [fields.invalid(path, value, str(e))]


def quantity_value(path: str, name: str, value: str) -> list[FieldError]:
    """ValidateResourceQuantityValue: not negative; whole for counts and extended resources."""
    q, errs = parsed(path, value)
    if q is None:
        return errs
    if q < 0:
        errs.append(fields.invalid(path, value, NEGATIVE))
    # Go's MilliValue() % 1000, in Python's exact integers (a Decimal's % refuses a value past
    # its context's 28 digits).
    if (name in _COUNTS or extended(name)) and math.ceil(q * 1000) % 1000:
        errs.append(fields.invalid(path, value, NOT_INTEGER))
    return errs
