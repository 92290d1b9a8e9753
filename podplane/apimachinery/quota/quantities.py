"""Resource lists (name -> quantity) as k8s.io/apiserver/pkg/quota/v1 computes with them: sums
that keep the first non-zero operand's format (Go's Quantity.Add), masks, comparisons, and the
text refusals print them in (prettyPrint)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from podplane.apimachinery import quantity


@dataclass(frozen=True)
class Quantity:
    value: Decimal
    fmt: str = quantity.DECIMAL_SI

    @classmethod
    def parse(cls, text: str) -> Quantity:
        """QuantityError for text that is no quantity."""
        return cls(quantity.parse(text), quantity.format_of(text))

    def __add__(self, other: Quantity) -> Quantity:
        return Quantity(self.value + other.value, self.fmt if self.value else other.fmt)

    def __sub__(self, other: Quantity) -> Quantity:
        return Quantity(self.value - other.value, self.fmt if self.value else other.fmt)

    def __str__(self) -> str:
        return quantity.canonical(self.value, self.fmt)


ZERO = Quantity(Decimal(0))
ONE = Quantity(Decimal(1))
ResourceList = dict[str, Quantity]


def parse_list(values: Mapping[str, str]) -> ResourceList:
    """A message's map of quantities; a value that is no quantity counts as 0 (validation
    refuses those before anything counts them)."""
    out: ResourceList = {}
    for name, text in values.items():
        try:
            out[name] = Quantity.parse(text)
        except quantity.QuantityError:
            out[name] = ZERO
    return out


def to_strings(values: ResourceList) -> dict[str, str]:
    return {name: str(q) for name, q in values.items()}


def add(a: ResourceList, b: ResourceList) -> ResourceList:
    out = dict(a)
    for name, q in b.items():
        out[name] = out[name] + q if name in out else q
    return out


def subtract(a: ResourceList, b: ResourceList) -> ResourceList:
    out = dict(a)
    for name, q in b.items():
        out[name] = out[name] - q if name in out else ZERO - q
    return out


def subtract_non_negative(a: ResourceList, b: ResourceList) -> ResourceList:
    """a - b, each difference at least 0 (SubtractWithNonNegativeResult)."""
    return {n: q if q.value > 0 else Quantity(Decimal(0), q.fmt) for n, q in subtract(a, b).items()}


def mask(values: ResourceList, names: Iterable[str]) -> ResourceList:
    keep = set(names)
    return {n: q for n, q in values.items() if n in keep}


def remove_zeros(values: ResourceList) -> ResourceList:
    return {n: q for n, q in values.items() if q.value != 0}


def negative(values: ResourceList) -> list[str]:
    return [n for n, q in values.items() if q.value < 0]


def less_than_or_equal(a: ResourceList, b: ResourceList) -> tuple[bool, list[str]]:
    """Whether each of a's values is at most b's of the same name, and the names that are
    not."""
    exceeded = [n for n, limit in b.items() if n in a and a[n].value > limit.value]
    return not exceeded, exceeded


def equals(a: ResourceList, b: ResourceList) -> bool:
    return a.keys() == b.keys() and all(a[n].value == b[n].value for n in a)


def pretty_print(values: ResourceList) -> str:
    """name=value pairs sorted by name, joined by commas (prettyPrint)."""
    return ",".join(f"{n}={values[n]}" for n in sorted(values))


def pretty_print_names(names: Iterable[str]) -> str:
    return ",".join(sorted(names))
