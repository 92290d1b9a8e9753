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


# The three ways Go's resource.Quantity writes itself, as parsed from a quantity's suffix.
DECIMAL_SI, BINARY_SI, DECIMAL_EXPONENT = "DecimalSI", "BinarySI", "DecimalExponent"
_DECIMAL_SUFFIXES = {-9: "n", -6: "u", -3: "m", 0: "", 3: "k", 6: "M", 9: "G", 12: "T"}
_DECIMAL_SUFFIXES |= {15: "P", 18: "E"}
_BINARY_SUFFIXES = ("", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei")
_NANO = Decimal("1e-9")


def format_of(value: str) -> str:
    """The format Go keeps for a parsed quantity: binary for Ki..Ei, an exponent for e/E, else
    decimal SI."""
    m = _QUANTITY.match(value.strip())
    suffix = m.group(2) if m else ""
    if suffix.endswith("i"):
        return BINARY_SI
    if suffix[:1] in ("e", "E"):
        return DECIMAL_EXPONENT
    return DECIMAL_SI


def canonical(value: Decimal, fmt: str = DECIMAL_SI) -> str:
    """What Go's Quantity.String() writes for this value in this format (CanonicalizeBytes):
    rounded up to nano units; binary values of at least 1Ki that are whole bytes with the largest
    power of 1024 that divides them; else the mantissa with the largest exponent, a multiple of
    3, that keeps it whole ("1", "500m", "2k", "1500", "12e6")."""
    if value % _NANO:
        value = (value / _NANO).to_integral_value(rounding="ROUND_CEILING") * _NANO
    if value == 0:
        return "0"
    if fmt == BINARY_SI and abs(value) >= 1024 and value == value.to_integral_value():
        number, power = int(value), 0
        while number % 1024 == 0 and power < len(_BINARY_SUFFIXES) - 1:
            number, power = number // 1024, power + 1
        return f"{number}{_BINARY_SUFFIXES[power]}"
    mantissa, exponent = value, 0
    while mantissa != mantissa.to_integral_value():
        mantissa, exponent = mantissa * 10, exponent - 1
    number = int(mantissa)
    while number and number % 10 == 0:
        number, exponent = number // 10, exponent + 1
    while exponent % 3:
        number, exponent = number * 10, exponent - 1
    if fmt == DECIMAL_EXPONENT:
        return f"{number}e{exponent}" if exponent else str(number)
    suffix = _DECIMAL_SUFFIXES.get(exponent)
    return f"{number}{suffix}" if suffix is not None else f"{number}e{exponent}"


def canonical_text(value: str) -> str:
    """A quantity's text as Go writes it again ("1000m" -> "1", "0.5" -> "500m")."""
    return canonical(parse(value), format_of(value))
