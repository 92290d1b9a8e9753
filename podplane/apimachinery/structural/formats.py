"""The string formats a custom resource's schema can require (`format: email`), as kube-openapi's
strfmt registry checks them for apiextensions-apiserver (pkg/apiserver/validation/formats.go's
supportedFormats). A format not in this list (int32, int64, float, double, or any other name)
is dropped from the schema before validating, so it checks nothing, as in Kubernetes.

Names are normalized as strfmt does: without dashes (`date-time` is `datetime`)."""

from __future__ import annotations

import base64
import calendar
import ipaddress
import re
import unicodedata
import urllib.parse
from collections.abc import Callable

from podplane.apimachinery.structural.regex import compile_go_regexp


def normalize(name: str) -> str:
    return name.replace("-", "")


def _date(text: str) -> bool:
    """time.Parse("2006-01-02", text): four-digit year, month 01-12, a day of that month."""
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", text)
    if m is None:
        return False
    year, month, day = (int(g) for g in m.groups())
    return 1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1]


_TIME = re.compile(r"([0-9]{2}):([0-9]{2}):([0-9]{2})(.[0-9]+)?(z|([+-][0-9]{2}:[0-9]{2}))\Z")


def _date_time(text: str) -> bool:
    """strfmt.IsDateTime: a date, "t", a time with a zone (case-insensitive)."""
    if len(text) < 4:
        return False
    parts = text.lower().split("t")
    if len(parts) < 2 or not _date(parts[0]):
        return False
    m = _TIME.match(parts[1])
    return m is not None and m.group(1) <= "23" and m.group(2) <= "59" and m.group(3) <= "59"


_GO_DURATION = re.compile(r"[-+]?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+\Z")
_DURATION_PART = re.compile(r"(\d+)[\t\n\f\r ]*([A-Za-zµ]+)")
_UNITS = [
    ("ns", "nano"),
    ("us", "µs", "micro"),
    ("ms", "milli"),
    ("s", "sec"),
    ("m", "min"),
    ("h", "hr", "hour"),
    ("d", "day"),
    ("w", "wk", "week"),
]


def _duration(text: str) -> bool:
    """strfmt.ParseDuration: Go's time.ParseDuration, or any "<n> <unit>" inside the text."""
    if text == "0" or _GO_DURATION.match(text):
        return True
    for match in _DURATION_PART.finditer(text):
        unit = match.group(2).strip().lower()
        for variants in _UNITS:
            if unit.startswith(variants[-1]) or unit in variants:
                return True
    return False


def parse_ip_sloppy(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """netutils.ParseIPSloppy: net.ParseIP that tolerates leading zeros in IPv4."""
    if "%" in text:
        return None
    if ":" not in text:
        parts = text.split(".")
        if len(parts) != 4 or not all(p.isdigit() and p.isascii() and len(p) <= 3 for p in parts):
            return None
        if any(int(p) > 255 for p in parts):
            return None
        return ipaddress.IPv4Address(".".join(str(int(p)) for p in parts))
    try:
        return ipaddress.IPv6Address(text)
    except ValueError:
        return None


def _ipv4(text: str) -> bool:
    return parse_ip_sloppy(text) is not None and "." in text


def _ipv6(text: str) -> bool:
    try:
        return "%" not in text and ":" in text and ipaddress.IPv6Address(text) is not None
    except ValueError:
        return False


def _cidr(text: str) -> bool:
    address, slash, prefix = text.partition("/")
    ip = parse_ip_sloppy(address)
    if ip is None or not slash or not prefix.isdigit() or not prefix.isascii():
        return False
    if len(prefix) > 1 and prefix.startswith("0"):
        return False
    return int(prefix) <= ip.max_prefixlen


def _mac(text: str) -> bool:
    """net.ParseMAC: 6, 8 or 20 octets, with : or - between pairs or . between quads."""
    pairs = re.fullmatch(r"[0-9A-Fa-f]{2}([:-])[0-9A-Fa-f]{2}(?:\1[0-9A-Fa-f]{2})*", text)
    if pairs:
        return (len(text) + 1) // 3 in (6, 8, 20)
    if re.fullmatch(r"[0-9A-Fa-f]{4}(?:\.[0-9A-Fa-f]{4})*", text):
        return (len(text) + 1) // 5 * 2 in (6, 8, 20)
    return False


_URI_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")


def _uri(text: str) -> bool:
    """url.ParseRequestURI: an absolute URI or an absolute path, without control characters,
    with valid %-escapes and a numeric port."""
    if not text or any(ord(c) < 0x20 or ord(c) == 0x7F for c in text):
        return False
    if re.search(r"%(?![0-9A-Fa-f]{2})", text):
        return False
    if not text.startswith("/") and not _URI_SCHEME.match(text):
        return False
    if "://" in text:
        try:
            parsed = urllib.parse.urlsplit(text)
            _ = parsed.port
        except ValueError:
            return False
        if " " in parsed.netloc:
            return False
    return True


_EMAIL = re.compile(
    r"(?:[^<>]*<)?([A-Za-z0-9!#$%&'*+/=?^_`{|}~.\-]+|\"[^\"]*\")@([A-Za-z0-9\-.]+|\[[^\]]*\])>?\Z"
)


def _email(text: str) -> bool:
    """mail.ParseAddress, approximately: an addr-spec, or a display name and <addr-spec>."""
    m = _EMAIL.match(text.strip())
    if m is None:
        return False
    local, domain = m.group(1), m.group(2)
    if local.startswith(".") or local.endswith(".") or ".." in local:
        return False
    return not (domain.startswith(".") or domain.endswith(".") or ".." in domain)


def _hostname_skeleton(text: str) -> str:
    """Each character as its class in strfmt's HostnamePattern: a letter (\\p{L} or ASCII), a
    digit, a symbol (\\p{S}), '-', '.', or anything else."""
    out = []
    for c in text:
        category = unicodedata.category(c)
        if c.isascii() and c.isdigit():
            out.append("0")
        elif category.startswith("L"):
            out.append("a")
        elif category.startswith("S"):
            out.append("s")
        elif c in "-.":
            out.append(c)
        else:
            out.append("!")
    return "".join(out)


_HOSTNAME = re.compile(
    r"([a0s]((-?[a0s]{0,62})?)|([a0s](([a0s\-]{0,61}[a0s])?)(\.)){1,}(a){2,63})\Z"
)


def _hostname(text: str) -> bool:
    if not _HOSTNAME.match(_hostname_skeleton(text)):
        return False
    size = len(text.encode())
    return size <= 255 and all(len(p.encode()) <= 63 for p in text.split("."))


def _isbn10(text: str) -> bool:
    digits = re.sub(r"[\s-]", "", text)
    if not re.fullmatch(r"\d{9}[\dX]", digits):
        return False
    total = sum((10 - i) * (10 if c == "X" else int(c)) for i, c in enumerate(digits))
    return total % 11 == 0


def _isbn13(text: str) -> bool:
    digits = re.sub(r"[\s-]", "", text)
    if not re.fullmatch(r"\d{13}", digits):
        return False
    total = sum(int(c) * (1 if i % 2 == 0 else 3) for i, c in enumerate(digits[:12]))
    return (10 - total % 10) % 10 == int(digits[12])


_CREDIT_CARD = re.compile(
    r"(?:4[0-9]{12}(?:[0-9]{3})?|5[1-5][0-9]{14}|(222[1-9]|22[3-9][0-9]|2[3-6][0-9]{2}|27[01]"
    r"[0-9]|2720)[0-9]{12}|6(?:011|5[0-9][0-9])[0-9]{12}|3[47][0-9]{13}|3(?:0[0-5]|[68][0-9])"
    r"[0-9]{11}|(?:2131|1800|35\d{3})\d{11}|6[27][0-9]{14})\Z"
)


def _credit_card(text: str) -> bool:
    digits = re.sub(r"[^0-9]", "", text)
    if not _CREDIT_CARD.match(digits):
        return False
    total = 0
    for i, c in enumerate(reversed(digits)):
        n = int(c) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


_BYTE = re.compile(
    r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{4})\Z"
)
_RGB_PART = r"[\t\n\f\r ]*(0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])[\t\n\f\r ]*"
_RGB = re.compile(rf"rgb\({_RGB_PART},{_RGB_PART},{_RGB_PART}\)\Z")


def _byte(text: str) -> bool:
    if not _BYTE.match(text):
        return False
    base64.b64decode(text)
    return True


def _go_regexp(pattern: str) -> Callable[[str], bool]:
    compiled = compile_go_regexp(pattern)
    return lambda text: compiled.search(text) is not None


_UUID = "(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?%s[0-9a-f]{3}-?%s[0-9a-f]{3}-?[0-9a-f]{12}$"

VALIDATORS: dict[str, Callable[[str], bool]] = {
    "bsonobjectid": lambda t: re.fullmatch(r"[0-9A-Fa-f]{24}", t) is not None,
    "uri": _uri,
    "email": _email,
    "hostname": _hostname,
    "ipv4": _ipv4,
    "ipv6": _ipv6,
    "cidr": _cidr,
    "mac": _mac,
    "uuid": _go_regexp(_UUID % ("[0-9a-f]", "[0-9a-f]")),
    "uuid3": _go_regexp(_UUID % ("3", "[0-9a-f]")),
    "uuid4": _go_regexp(_UUID % ("4", "[89ab]")),
    "uuid5": _go_regexp(_UUID % ("5", "[89ab]")),
    "isbn": lambda t: _isbn10(t) or _isbn13(t),
    "isbn10": _isbn10,
    "isbn13": _isbn13,
    "creditcard": _credit_card,
    "ssn": lambda t: len(t) == 11 and re.fullmatch(r"\d{3}[- ]?\d{2}[- ]?\d{4}", t) is not None,
    "hexcolor": lambda t: re.fullmatch(r"#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})", t) is not None,
    "rgbcolor": lambda t: _RGB.match(t) is not None,
    "byte": _byte,
    "password": lambda t: True,
    "date": _date,
    "duration": _duration,
    "datetime": _date_time,
}


def supported(name: str) -> bool:
    """Whether the format checks anything (StripUnsupportedFormatsPostProcess keeps it)."""
    return normalize(name) in VALIDATORS


def validates(name: str, text: str) -> bool:
    return VALIDATORS[normalize(name)](text)
