"""Selectors and labels in table cells: metav1.FormatLabelSelector for replica sets and jobs,
the bare selector string for deployments (printDeployment), labels.FormatLabels for replication
controllers and --show-labels."""

from __future__ import annotations

import pytest

from podplane.api.meta.v1 import meta_pb2
from podplane.printers.labels import format_label_selector, format_labels, label_selector_string

Req = meta_pb2.LabelSelectorRequirement


@pytest.mark.parametrize(
    ("selector", "formatted", "bare"),
    [
        (meta_pb2.LabelSelector(), "<none>", ""),
        (meta_pb2.LabelSelector(match_labels={"b": "2", "a": "1"}), "a=1,b=2", "a=1,b=2"),
        (
            meta_pb2.LabelSelector(
                match_labels={"app": "web"},
                match_expressions=[
                    Req(key="tier", operator="In", values=["b", "a"]),
                    Req(key="canary", operator="DoesNotExist"),
                    Req(key="env", operator="Exists"),
                    Req(key="zone", operator="NotIn", values=["x"]),
                ],
            ),
            "app=web,!canary,env,tier in (a,b),zone notin (x)",  # sorted by key, as kubectl
            "app=web,!canary,env,tier in (a,b),zone notin (x)",
        ),
        (
            meta_pb2.LabelSelector(match_expressions=[Req(key="a", operator="Like", values=["x"])]),
            "<error>",
            "<invalid>",
        ),
        (
            meta_pb2.LabelSelector(match_expressions=[Req(key="a", operator="In")]),
            "<error>",
            "<invalid>",
        ),
    ],
    ids=["empty", "match labels", "expressions", "unknown operator", "In without values"],
)
def test_label_selector(selector: meta_pb2.LabelSelector, formatted: str, bare: str) -> None:
    assert (format_label_selector(selector), label_selector_string(selector)) == (formatted, bare)


def test_labels() -> None:
    assert format_labels({"tier": "front", "app": "web"}) == "app=web,tier=front"
    assert format_labels({}) == "<none>"
