"""Kubernetes resource quantities: "100m", "0.5", "64Mi", "1G", "1e3"."""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation

_SUFFIXES: dict[str, Decimal] = {
    "": Decimal(1),
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "k": Decimal(10) ** 3,
    "M": Decimal(10) ** 6,
    "G": Decimal(10) ** 9,
    "T": Decimal(10) ** 12,
    "P": Decimal(10) ** 15,
    "E": Decimal(10) ** 18,
    "Ki": Decimal(2) ** 10,
    "Mi": Decimal(2) ** 20,
    "Gi": Decimal(2) ** 30,
    "Ti": Decimal(2) ** 40,
    "Pi": Decimal(2) ** 50,
    "Ei": Decimal(2) ** 60,
}
_QUANTITY = re.compile(
    r"^([+-]?[0-9.]+)((?:[eE][+-]?[0-9]+)|Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|)$"
)


class QuantityError(ValueError):
    pass


def parse(value: str) -> Decimal:
    """The quantity's value in base units; QuantityError when it is not a valid quantity."""
    m = _QUANTITY.match(value.strip())
    if not m:
        raise QuantityError(
            "quantities must match the regular expression "
            "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
        )
    number, suffix = m.groups()
    try:
        base = Decimal(number)
    except InvalidOperation:
        raise QuantityError(f"invalid number {number!r}") from None
    if suffix[:1] in ("e", "E"):
        return base * (Decimal(10) ** int(suffix[1:]))
    return base * _SUFFIXES[suffix]


def milli_cpu(value: str) -> int:
    """CPU in millicores, rounded up as Kubernetes does ("100m" -> 100, "0.5" -> 500)."""
    return math.ceil(parse(value) * 1000)


def bytes_of(value: str) -> int:
    """Memory or storage in bytes, rounded up."""
    return math.ceil(parse(value))


def format_milli_cpu(milli: int) -> str:
    return str(milli // 1000) if milli % 1000 == 0 else f"{milli}m"


def format_bytes(n: int) -> str:
    """The largest binary suffix that divides evenly ("2Gi", "512Mi", "1000")."""
    for suffix in ("Ei", "Pi", "Ti", "Gi", "Mi", "Ki"):
        unit = int(_SUFFIXES[suffix])
        if n and n % unit == 0:
            return f"{n // unit}{suffix}"
    return str(n)
