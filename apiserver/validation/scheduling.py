"""PriorityClass validation (kubernetes pkg/apis/scheduling/validation: ValidatePriorityClass and
ValidatePriorityClassUpdate; ValidatePreemptionPolicy of pkg/apis/core/validation)."""

from __future__ import annotations

from apiserver.validation import fields
from apiserver.validation.fields import FieldError
from apiserver.validation.generic_rules import immutable
from apiserver.validation.meta import object_meta
from podplane.api.scheduling.v1 import scheduling_pb2
from podplane.apimachinery import priority


def preemption_policy(path: str, value: str) -> list[FieldError]:
    """A set preemptionPolicy (a PriorityClass's, or a pod's)."""
    if not value:
        return [fields.required(path)]
    if value not in priority.PREEMPTION_POLICIES:
        return [fields.unsupported(path, value, priority.PREEMPTION_POLICIES)]
    return []


def priority_class(pc: scheduling_pb2.PriorityClass) -> list[FieldError]:
    """A `system-` name is reserved for the system classes, with their very values; any other
    class's value is at most HIGHEST_USER_DEFINABLE_PRIORITY."""
    errs = object_meta(pc.metadata, namespaced=False)
    name = pc.metadata.name
    if name.startswith(priority.SYSTEM_PRIORITY_CLASS_PREFIX):
        mismatch = priority.known_system_class_mismatch(name, pc.value, pc.global_default)
        if mismatch is not None:
            errs.append(
                fields.forbidden(
                    "metadata.name",
                    f"priority class names with '{priority.SYSTEM_PRIORITY_CLASS_PREFIX}' prefix "
                    f"are reserved for system use only. error: {mismatch}",
                )
            )
    elif pc.value > priority.HIGHEST_USER_DEFINABLE_PRIORITY:
        errs.append(
            fields.forbidden(
                "value",
                "maximum allowed value of a user defined priority is "
                f"{priority.HIGHEST_USER_DEFINABLE_PRIORITY}",
            )
        )
    if pc.HasField("preemption_policy"):
        errs += preemption_policy("preemptionPolicy", pc.preemption_policy)
    return errs


def priority_class_update(
    new: scheduling_pb2.PriorityClass, old: scheduling_pb2.PriorityClass
) -> list[FieldError]:
    """Only the metadata, description and globalDefault may change (the object is not checked
    again as a whole, as Kubernetes does not)."""
    errs = object_meta(new.metadata, namespaced=False)
    if new.value != old.value:
        errs.append(fields.forbidden("value", "may not be changed in an update."))
    errs += immutable("preemptionPolicy", _shown_policy(new), _shown_policy(old))
    return errs


def _shown_policy(pc: scheduling_pb2.PriorityClass) -> str:
    # An unset pointer shows as "null" in Kubernetes' field errors.
    return pc.preemption_policy if pc.HasField("preemption_policy") else "null"
