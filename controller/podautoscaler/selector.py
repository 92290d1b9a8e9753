"""A label selector as the controller carries it from the target's Scale: the text
(status.selector, which the metrics API is asked with) and its parsed form (which the pods in
the informer's cache are matched against)."""

from __future__ import annotations

from dataclasses import dataclass

from podplane.apimachinery.selectors import LabelSelector, parse_labels


@dataclass(frozen=True)
class Selector:
    text: str
    parsed: LabelSelector

    @classmethod
    def parse(cls, text: str) -> Selector:
        """Raises podplane.apimachinery.selectors.SelectorError on a malformed selector."""
        return cls(text, parse_labels(text))
