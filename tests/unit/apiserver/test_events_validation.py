"""events.k8s.io/v1 Events validated as Kubernetes 1.31 validates them for that group version
(pkg/apis/core/validation/events.go): the strict create rules, the immutable fields of an
update, and the field paths Kubernetes' internal Event names, whichever version was sent."""

from __future__ import annotations

import pytest

from apiserver.registry.strategies.events import OTHER_VERSIONS
from podplane.api.core.v1 import core_pb2
from podplane.api.events.v1 import events_pb2
from podplane.api.meta.v1 import meta_pb2

(STRATEGY,) = OTHER_VERSIONS


def valid() -> events_pb2.Event:
    return events_pb2.Event(
        metadata=meta_pb2.ObjectMeta(name="web.1", namespace="ns"),
        event_time="2026-01-02T03:04:05.000000Z",
        reporting_controller="example.com/ctl",
        reporting_instance="ctl-0",
        action="Starting",
        reason="Started",
        regarding=core_pb2.ObjectReference(kind="Pod", name="web", namespace="ns"),
        note="started",
        type="Normal",
    )


def errors(event: events_pb2.Event) -> list[str]:
    return [str(e) for e in STRATEGY.validate(event)]


def test_a_complete_event_is_valid() -> None:
    assert errors(valid()) == []


QUALIFIED = (
    'reportingController: Invalid value: "": name part must consist of alphanumeric '
    "characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. "
    "'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
    "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("event_time", "", ["eventTime: Required value"]),
        (
            "reporting_controller",
            "",
            [
                "reportingController: Required value",
                'reportingController: Invalid value: "": name part must be non-empty',
                QUALIFIED,
            ],
        ),
        ("reporting_instance", "", ["reportingInstance: Required value"]),
        (
            "reporting_instance",
            "i" * 129,
            ['reportingInstance: Invalid value: "": can have at most 128 characters'],
        ),
        ("action", "", ["action: Required value"]),
        ("action", "a" * 129, ['action: Invalid value: "": can have at most 128 characters']),
        ("reason", "", ["reason: Required value"]),
        ("reason", "r" * 129, ['reason: Invalid value: "": can have at most 128 characters']),
        # The note is the internal Event's message, and named so.
        ("note", "n" * 1025, ['message: Invalid value: "": can have at most 1024 characters']),
        ("type", "", ['type: Invalid value: "": has invalid value: ']),
        ("type", "Fatal", ['type: Invalid value: "": has invalid value: Fatal']),
        (
            "deprecated_first_timestamp",
            "2026-01-02T03:04:05Z",
            ['firstTimestamp: Invalid value: "": needs to be unset'],
        ),
        (
            "deprecated_last_timestamp",
            "2026-01-02T03:04:05Z",
            ['lastTimestamp: Invalid value: "": needs to be unset'],
        ),
        ("deprecated_count", 2, ['count: Invalid value: "": needs to be unset']),
    ],
)
def test_create_rules(field: str, value: object, expected: list[str]) -> None:
    event = valid()
    setattr(event, field, value)
    assert errors(event) == expected


def test_a_note_of_exactly_one_kib_is_accepted() -> None:
    event = valid()
    event.note = "n" * 1024
    assert errors(event) == []


def test_a_deprecated_source_must_be_unset() -> None:
    event = valid()
    event.deprecated_source.component = "kubelet"
    assert errors(event) == ['source: Invalid value: "": needs to be unset']


def test_a_series_counts_at_least_two_and_has_a_last_observed_time() -> None:
    event = valid()
    event.series.count = 1
    assert errors(event) == [
        'series.count: Invalid value: "": should be at least 2',
        "series.lastObservedTime: Required value",
    ]


def test_regarding_without_a_namespace_outside_default_and_kube_system() -> None:
    event = valid()
    event.regarding.namespace = ""
    assert errors(event) == [
        'involvedObject.namespace: Invalid value: "": does not match event.namespace'
    ]
    event.metadata.namespace = "kube-system"
    assert errors(event) == []


def test_an_update_may_change_only_the_series() -> None:
    old = valid()
    new = valid()
    new.series.count = 2
    new.series.last_observed_time = "2026-01-02T03:05:00.000000Z"
    assert STRATEGY.validate_update(new, old) == []
    changed = valid()
    changed.note = "other"
    changed.reporting_controller = "example.com/other"
    changed.action = "Stopping"
    assert [str(e) for e in STRATEGY.validate_update(changed, old)] == [
        'message: Invalid value: "other": field is immutable',
        'action: Invalid value: "Stopping": field is immutable',
        'reportingController: Invalid value: "example.com/other": field is immutable',
    ]
