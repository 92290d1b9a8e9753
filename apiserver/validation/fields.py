"""Field errors and the name/label rules of Kubernetes' apimachinery validation."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import grpc

from apiserver.errors import APIError, Cause, Details

# Longest value an error message quotes in full.
MAX_SHOWN_VALUE = 256


@dataclass(frozen=True)
class FieldError:
    path: str
    # "Required value", "Invalid value", "Unsupported value", "Duplicate value", "Forbidden", ...
    type: str
    value: object = None
    detail: str = ""

    def __str__(self) -> str:
        if self.type in ("Required value", "Forbidden") or self.value is None:
            return f"{self.path}: {self.type}" + (f": {self.detail}" if self.detail else "")
        if isinstance(self.value, str):
            shown = go_quote(self.value)
        elif isinstance(self.value, (int, bool)):
            shown = json.dumps(self.value)
        else:
            shown = str(self.value)
        if len(shown) > MAX_SHOWN_VALUE:  # a 2 MiB label value is not repeated back whole
            shown = shown[:MAX_SHOWN_VALUE] + "...(truncated)"
        return f"{self.path}: {self.type}: {shown}" + (f": {self.detail}" if self.detail else "")


_GO_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_GO_ESCAPES |= {"\v": "\\v", '"': '\\"', "\\": "\\\\"}


def go_quote(value: str) -> str:
    """`value` as Go's %q writes it (Kubernetes' field errors quote their value so): printable
    characters as they are, even outside ASCII ("💥", "\ufffd" itself), the rest escaped the
    way Go escapes them ("\\x00", "\\u200b")."""
    out = ['"']
    for char in value:
        if char in _GO_ESCAPES:
            out.append(_GO_ESCAPES[char])
        elif char.isprintable():
            out.append(char)
        elif ord(char) < 0x20 or char == "\x7f":
            out.append(f"\\x{ord(char):02x}")
        elif ord(char) < 0x10000:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(f"\\U{ord(char):08x}")
    out.append('"')
    return "".join(out)


def required(path: str, detail: str = "") -> FieldError:
    return FieldError(path, "Required value", None, detail)


def invalid(path: str, value: object, detail: str) -> FieldError:
    return FieldError(path, "Invalid value", value, detail)


def unsupported(path: str, value: object, supported: Iterable[str]) -> FieldError:
    return FieldError(
        path,
        "Unsupported value",
        value,
        "supported values: " + ", ".join(f'"{s}"' for s in supported),
    )


def duplicate(path: str, value: object) -> FieldError:
    return FieldError(path, "Duplicate value", value)


def forbidden(path: str, detail: str) -> FieldError:
    return FieldError(path, "Forbidden", None, detail)


# metav1.CauseType of each field error type (field.ErrorType's String()).
_CAUSE_REASONS = {
    "Required value": "FieldValueRequired",
    "Invalid value": "FieldValueInvalid",
    "Unsupported value": "FieldValueNotSupported",
    "Duplicate value": "FieldValueDuplicate",
    "Forbidden": "FieldValueForbidden",
    "Too long": "FieldValueTooLong",
    "Too many": "FieldValueTooMany",
    "Not found": "FieldValueNotFound",
    "Internal error": "InternalError",
}


def cause(e: FieldError) -> Cause:
    """The error as a metav1.StatusCause: kubectl and clients read each field's problem there."""
    message = str(e)[len(e.path) + 2 :] if str(e).startswith(f"{e.path}: ") else str(e)
    return Cause(_CAUSE_REASONS.get(e.type, "FieldValueInvalid"), message, e.path)


def invalid_error(kind: str, name: str, errors: list[FieldError], group: str = "") -> APIError:
    """errors.NewInvalid: `Pod "x" is invalid: <the field errors>` (422 Invalid), each error also
    a cause; the kind is qualified by its group (`Deployment.apps "x" is invalid: ...`)."""
    body = str(errors[0]) if len(errors) == 1 else "[" + ", ".join(str(e) for e in errors) + "]"
    if len(name) > MAX_SHOWN_VALUE:
        name = name[:MAX_SHOWN_VALUE] + "...(truncated)"
    qualified = f"{kind}.{group}" if group else kind
    return APIError(
        grpc.StatusCode.INVALID_ARGUMENT,
        "Invalid",
        f'{qualified} "{name}" is invalid: {body}',
        Details(name=name, group=group, kind=kind, causes=tuple(cause(e) for e in errors)),
    )


_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_DNS1123_SUBDOMAIN = re.compile(
    r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
)
_QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")

LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character (e.g. 'my-name',  or "
    "'123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
DNS1035_LABEL_MSG = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
    "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or "
    "'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
)
QUALIFIED_NAME_MSG = (
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
    "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)
LABEL_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
    "'my_value',  or '12345', regex used for validation is "
    "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)
SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
    "'-' or '.', and must start and end with an alphanumeric character (e.g. "
    "'example.com', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)


def dns1123_label(path: str, value: str) -> list[FieldError]:
    if len(value) > 63:
        return [invalid(path, value, "must be no more than 63 characters")]
    if not _DNS1123_LABEL.match(value):
        return [invalid(path, value, LABEL_MSG)]
    return []


def dns1035_label(path: str, value: str) -> list[FieldError]:
    """A label that starts with a letter (IsDNS1035Label): service names, which become DNS names
    and environment variable prefixes."""
    errs = []
    if len(value) > 63:
        errs.append(invalid(path, value, "must be no more than 63 characters"))
    if not _DNS1035_LABEL.match(value):
        errs.append(invalid(path, value, DNS1035_LABEL_MSG))
    return errs


def dns1123_subdomain(path: str, value: str) -> list[FieldError]:
    if len(value) > 253:
        return [invalid(path, value, "must be no more than 253 characters")]
    if not _DNS1123_SUBDOMAIN.match(value):
        return [invalid(path, value, SUBDOMAIN_MSG)]
    return []


def _bytes(text: str) -> int:
    """A string's length as Go's len() gives it: in UTF-8 bytes."""
    return len(text.encode("utf-8", "surrogatepass"))


def qualified_name(path: str, value: str) -> list[FieldError]:
    """A label or annotation key: an optional DNS subdomain prefix and '/', then a name."""
    # Every object's label and annotation keys are checked, and they are few keys over and
    # over: each is checked once. No valid key is longer than its two parts and the slash; a
    # longer one (as long as a request) is checked each time, not kept.
    problems = (
        _remembered_qualified_name_problems(value)
        if len(value) <= _MAX_QUALIFIED_NAME
        else _qualified_name_problems(value)
    )
    return [invalid(path, value, detail) for detail in problems]


_MAX_QUALIFIED_NAME = 253 + 1 + 63


def _qualified_name_problems(value: str) -> tuple[str, ...]:
    prefix, _, name = value.rpartition("/")
    problems: list[str] = []
    if "/" in value and not prefix:
        problems.append("prefix part must be non-empty")
    elif prefix and dns1123_subdomain("", prefix):
        problems.append("prefix part " + SUBDOMAIN_MSG)
    # Lengths in bytes and both faults at once, as Go's IsQualifiedName counts and reports them.
    if not name:
        problems.append("name part must be non-empty")
    elif _bytes(name) > 63:
        problems.append("name part must be no more than 63 characters")
    if name and not _QUALIFIED_NAME.match(name):
        problems.append("name part " + QUALIFIED_NAME_MSG)
    return tuple(problems)


_remembered_qualified_name_problems = functools.lru_cache(maxsize=4096)(_qualified_name_problems)


def label_map(path: str, values: Mapping[str, str]) -> list[FieldError]:
    if not values:
        return []
    errs: list[FieldError] = []
    for key, value in sorted(values.items()):
        errs += qualified_name(path, key)
        errs += label_value(path, value)
    return errs


def label_value(path: str, value: str) -> list[FieldError]:
    """IsValidLabelValue: at most 63 bytes (Go counts bytes, not characters), of the label
    alphabet; both errors when both apply, as Kubernetes lists them."""
    errs: list[FieldError] = []
    if _bytes(value) > 63:
        errs.append(invalid(path, value, "must be no more than 63 characters"))
    if not _LABEL_VALUE.match(value):
        errs.append(invalid(path, value, LABEL_VALUE_MSG))
    return errs


TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024


def annotation_map(path: str, values: Mapping[str, str]) -> list[FieldError]:
    if not values:
        return []
    errs: list[FieldError] = []
    total = 0
    for key, value in sorted(values.items()):
        errs += qualified_name(path, key)
        total += _bytes(key) + _bytes(value)
    if total > TOTAL_ANNOTATION_SIZE_LIMIT:
        errs.append(
            FieldError(
                path, "Too long", None, f"must have at most {TOTAL_ANNOTATION_SIZE_LIMIT} bytes"
            )
        )
    return errs
