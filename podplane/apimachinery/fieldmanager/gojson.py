"""JSON and quoted strings written byte for byte as Go writes them, where Kubernetes' bytes are
compared or shown: the keys of a managed fields set (`k:{"name":"web"}`, `v:80`, written by
jsoniter's standard-library-compatible encoder: map keys sorted, `<`, `>` and `&` escaped, floats
as strconv formats them) and the paths conflicts name (`[name="web"]`, Go's %q and %v)."""

from __future__ import annotations

import math

from podplane.apimachinery.json_types import JSONValue

# What Go's encoder escapes in a string beyond `"` and `\`: control characters, HTML's three, and
# the two JavaScript line terminators.
_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}
_NEEDS_ESCAPE = frozenset(_ESCAPES) | frozenset(chr(c) for c in range(0x20))


def string(value: str) -> str:
    """A JSON string as Go's encoder writes it."""
    if _NEEDS_ESCAPE.isdisjoint(value):
        return f'"{value}"'
    out = ['"']
    for char in value:
        escaped = _ESCAPES.get(char)
        if escaped is not None:
            out.append(escaped)
        elif char < " ":
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def number(value: float) -> str:
    """A float as Go's encoder writes it (strconv 'f' format, shortest, 'e' past 1e21 or below
    1e-6); a whole one as an integer."""
    if math.isnan(value) or math.isinf(value):
        raise ValueError(f"unsupported value: {value}")
    if value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    text = repr(value)
    magnitude = abs(value)
    if 1e-6 <= magnitude < 1e21:
        if "e" in text:  # Python writes 1e-05 where Go writes 0.00001
            text = f"{value:.{_decimals(text)}f}"
        return text
    mantissa, _, exponent = text.partition("e")
    sign = "-" if exponent.startswith("-") else "+"
    digits = exponent.lstrip("+-").lstrip("0") or "0"
    return f"{mantissa}e{sign}{digits.zfill(2)}"


def _decimals(text: str) -> int:
    mantissa, _, exponent = text.partition("e")
    fraction = mantissa.partition(".")[2]
    return max(0, len(fraction) - int(exponent))


def dumps(value: JSONValue) -> str:
    """Compact JSON as Go's encoder writes a decoded value: object keys sorted."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return string(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return number(value)
    if isinstance(value, list):
        return "[" + ",".join(dumps(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{string(k)}:{dumps(value[k])}" for k in sorted(value)) + "}"
    raise TypeError(f"not a JSON value: {type(value).__name__}")


_QUOTE_ESCAPES = {
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
    '"': '\\"',
    "\\": "\\\\",
}


def quote(value: str) -> str:
    """`value` as Go's %q (strconv.Quote) writes it: printable characters as they are, the rest
    escaped."""
    out = ['"']
    for char in value:
        if char in _QUOTE_ESCAPES:
            out.append(_QUOTE_ESCAPES[char])
        elif char.isprintable():
            out.append(char)
        elif ord(char) < 0x80:
            out.append(f"\\x{ord(char):02x}")
        elif ord(char) < 0x10000:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(f"\\U{ord(char):08x}")
    out.append('"')
    return "".join(out)


def show(value: JSONValue) -> str:
    """A value as structured-merge-diff's value.ToString shows it in a path: strings quoted,
    numbers and booleans as Go's %v writes them, lists bracketed, maps as key=value pairs."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return quote(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _go_g(value)
    if isinstance(value, list):
        return "[" + ",".join(show(item) for item in value) + "]"
    if isinstance(value, dict):
        return "".join(f"{k}={show(v)}" for k, v in value.items())
    return str(value)


def _go_g(value: float) -> str:
    """A float as Go's %v writes it (%g with the shortest precision)."""
    text = repr(value)
    if "e" not in text:
        exponent = math.floor(math.log10(abs(value))) if value else 0
        if exponent < -4 or exponent >= 21:
            text = f"{value:e}"
        else:
            return text[:-2] if text.endswith(".0") else text
    mantissa, _, exponent_text = text.partition("e")
    mantissa = mantissa.rstrip("0").rstrip(".") if "." in mantissa else mantissa
    exponent_value = int(exponent_text)
    sign = "-" if exponent_value < 0 else "+"
    return f"{mantissa}e{sign}{abs(exponent_value):02d}"
