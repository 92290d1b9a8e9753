"""events.k8s.io/v1 Events (kubernetes pkg/registry/core/event): the core v1 Event served at
another version, over the same stored objects. The strategy validates, and selects fields of,
the object converted to core v1, as Kubernetes validates its internal Event: with the strict
rules events.k8s.io requests get (apiserver/validation/events.py)."""

from __future__ import annotations

from apiserver.registry.strategies.base import Strategy
from apiserver.registry.strategies.core import event_fields
from apiserver.validation import events as validation
from apiserver.validation.fields import FieldError
from podplane.api.core.v1 import core_pb2
from podplane.api.events.v1 import events_pb2
from podplane.apimachinery import events as conversion
from podplane.apimachinery import resources


def _validate(obj: events_pb2.Event) -> list[FieldError]:
    return validation.create(conversion.to_core(obj))


def _validate_update(new: events_pb2.Event, old: events_pb2.Event) -> list[FieldError]:
    return validation.update(conversion.to_core(new), conversion.to_core(old))


def _fields(obj: events_pb2.Event) -> dict[str, str]:
    return event_fields(conversion.to_core(obj))


_V1 = Strategy(
    resources.EVENT_V1,
    _validate,
    _validate_update,
    _fields,
    selectable=frozenset(event_fields(core_pb2.Event())),
)

# The other served versions' strategies (resources.OTHER_VERSIONS), by API version and plural.
OTHER_VERSIONS: tuple[Strategy[events_pb2.Event], ...] = (_V1,)
