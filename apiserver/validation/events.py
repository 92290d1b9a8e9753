"""Events as Kubernetes 1.31 validates them for events.k8s.io/v1 requests
(pkg/apis/core/validation/events.go: ValidateEventCreate and ValidateEventUpdate with the
request's group version). The rules read the stored core v1 Event the request converts to, and
name fields as Kubernetes' internal Event does, whatever version was sent: reportingController
(core v1's reportingComponent), involvedObject (regarding), message (note), firstTimestamp,
lastTimestamp, count and source (the deprecated* fields)."""

from __future__ import annotations

from apiserver.validation import fields
from apiserver.validation.fields import FieldError
from apiserver.validation.generic_rules import immutable
from apiserver.validation.meta import object_meta
from podplane.api.core.v1 import core_pb2

REPORTING_INSTANCE_LENGTH_LIMIT = 128
ACTION_LENGTH_LIMIT = 128
REASON_LENGTH_LIMIT = 128
NOTE_LENGTH_LIMIT = 1024
EVENT_TYPES = ("Normal", "Warning")


def _at_most(path: str, limit: int) -> FieldError:
    return fields.invalid(path, "", f"can have at most {limit} characters")


def legacy(event: core_pb2.Event) -> list[FieldError]:
    """What every event passes, at any version (legacyValidateEvent)."""
    errs: list[FieldError] = []
    namespace, involved = event.metadata.namespace, event.involved_object
    mismatch = fields.invalid(
        "involvedObject.namespace", involved.namespace, "does not match event.namespace"
    )
    if not event.event_time:  # an old-style event
        if not involved.namespace:
            # event.namespace empty too, or "default" (old clients wrote that)
            if namespace not in ("", "default"):
                errs.append(mismatch)
        elif namespace != involved.namespace:
            errs.append(mismatch)
    else:
        if not involved.namespace and namespace not in ("default", "kube-system"):
            errs.append(mismatch)
        controller = event.reporting_component
        if not controller:
            errs.append(fields.required("reportingController"))
        errs += fields.qualified_name("reportingController", controller)
        if not controller:  # Go's IsQualifiedName also finds "" fails the name pattern
            errs.append(
                fields.invalid("reportingController", "", "name part " + fields.QUALIFIED_NAME_MSG)
            )
        if not event.reporting_instance:
            errs.append(fields.required("reportingInstance"))
        if len(event.reporting_instance) > REPORTING_INSTANCE_LENGTH_LIMIT:
            errs.append(_at_most("reportingInstance", REPORTING_INSTANCE_LENGTH_LIMIT))
        if not event.action:
            errs.append(fields.required("action"))
        if len(event.action) > ACTION_LENGTH_LIMIT:
            errs.append(_at_most("action", ACTION_LENGTH_LIMIT))
        if not event.reason:
            errs.append(fields.required("reason"))
        if len(event.reason) > REASON_LENGTH_LIMIT:
            errs.append(_at_most("reason", REASON_LENGTH_LIMIT))
        if len(event.message) > NOTE_LENGTH_LIMIT:
            errs.append(_at_most("message", NOTE_LENGTH_LIMIT))
    errs += fields.dns1123_subdomain("namespace", namespace)
    return errs


def _series(event: core_pb2.Event) -> list[FieldError]:
    errs: list[FieldError] = []
    if event.HasField("series"):
        if event.series.count < 2:
            errs.append(fields.invalid("series.count", "", "should be at least 2"))
        if not event.series.last_observed_time:
            errs.append(fields.required("series.lastObservedTime"))
    return errs


def create(event: core_pb2.Event) -> list[FieldError]:
    """An events.k8s.io/v1 create: the legacy rules, then the strict ones."""
    errs = legacy(event)
    errs += object_meta(event.metadata, namespaced=True)
    errs += _series(event)
    if not event.event_time:
        errs.append(fields.required("eventTime"))
    if event.type not in EVENT_TYPES:
        errs.append(fields.invalid("type", "", f"has invalid value: {event.type}"))
    for path, is_set in (
        ("firstTimestamp", bool(event.first_timestamp)),
        ("lastTimestamp", bool(event.last_timestamp)),
        ("count", event.count != 0),
        ("source", bool(event.source.component or event.source.host)),
    ):
        if is_set:
            errs.append(fields.invalid(path, "", "needs to be unset"))
    return errs


def update(new: core_pb2.Event, old: core_pb2.Event) -> list[FieldError]:
    """An events.k8s.io/v1 update: the legacy rules, a changed series' rules, and everything but
    the series immutable."""
    errs = legacy(new)
    if _series_of(new) != _series_of(old):
        errs += _series(new)
    for path, new_value, old_value in (
        ("involvedObject", new.involved_object, old.involved_object),
        ("reason", new.reason, old.reason),
        ("message", new.message, old.message),
        ("source", new.source, old.source),
        ("firstTimestamp", new.first_timestamp, old.first_timestamp),
        ("lastTimestamp", new.last_timestamp, old.last_timestamp),
        ("count", new.count, old.count),
        ("type", new.type, old.type),
        ("eventTime", new.event_time, old.event_time),
        ("action", new.action, old.action),
        ("related", _related_of(new), _related_of(old)),
        ("reportingController", new.reporting_component, old.reporting_component),
        ("reportingInstance", new.reporting_instance, old.reporting_instance),
    ):
        errs += immutable(path, new_value, old_value)
    return errs


def _series_of(event: core_pb2.Event) -> core_pb2.EventSeries | None:
    return event.series if event.HasField("series") else None


def _related_of(event: core_pb2.Event) -> core_pb2.ObjectReference | None:
    return event.related if event.HasField("related") else None
