"""Labels and label selectors as tables print them (apimachinery's labels.FormatLabels and
metav1.FormatLabelSelector)."""

from __future__ import annotations

from collections.abc import Mapping

from podplane.api.meta.v1 import meta_pb2

_OPERATORS = {"In": " in ", "NotIn": " notin "}


def format_labels(labels: Mapping[str, str]) -> str:
    """Sorted key=value pairs, or <none>."""
    if not labels:
        return "<none>"
    return ",".join(f"{k}={labels[k]}" for k in sorted(labels))


def _valid(e: meta_pb2.LabelSelectorRequirement) -> bool:
    """As labels.NewRequirement checks: In and NotIn need values, Exists and DoesNotExist none."""
    if e.operator in _OPERATORS:
        return bool(e.values)
    return e.operator in ("Exists", "DoesNotExist") and not e.values


def _requirement(e: meta_pb2.LabelSelectorRequirement) -> str:
    if e.operator == "Exists":
        return e.key
    if e.operator == "DoesNotExist":
        return f"!{e.key}"
    return f"{e.key}{_OPERATORS[e.operator]}({','.join(sorted(e.values))})"


def _selector_string(selector: meta_pb2.LabelSelector) -> str | None:
    """labels.Selector's String() of metav1.LabelSelectorAsSelector(selector): requirements sorted
    by key (`app=web,tier in (a,b)`), empty for an empty selector; None if it is invalid."""
    if not all(_valid(e) for e in selector.match_expressions):
        return None
    parts = [(k, f"{k}={v}") for k, v in selector.match_labels.items()]
    parts += [(e.key, _requirement(e)) for e in selector.match_expressions]
    return ",".join(text for _, text in sorted(parts))


def label_selector_string(selector: meta_pb2.LabelSelector) -> str:
    """The selector's string as printDeployment shows it: empty when empty, <invalid> if invalid."""
    text = _selector_string(selector)
    return "<invalid>" if text is None else text


def format_label_selector(selector: meta_pb2.LabelSelector) -> str:
    """metav1.FormatLabelSelector: the selector's string, <none> when empty, <error> if invalid."""
    text = _selector_string(selector)
    if text is None:
        return "<error>"
    return text or "<none>"
