"""Rules of ports, protocols and IP addresses shared by Service, Endpoints and EndpointSlice
validation (kubernetes apimachinery's IsValidPortNum, IsValidPortName, IsValidIP, IsValidCIDR and
pkg/apis/core/validation's ValidatePortNumOrName and ValidateNonSpecialIP)."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable

from apiserver.validation import fields
from apiserver.validation.fields import FieldError
from apiserver.validation.generic_rules import Shown
from podplane.apimachinery import service as svc_helper
from podplane.apimachinery.service import PROTOCOLS

INVALID_IP = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"
INVALID_CIDR = "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"
PORT_RANGE = "must be between 1 and 65535, inclusive"
_PORT_NAME_CHARS = re.compile(r"^[-a-z0-9]+$")


def go_strings(values: Iterable[str], type_name: str = "[]string") -> Shown:
    """A list of strings as Go's %#v prints it in an error: []string{"10.96.0.10"}."""
    items = list(values)
    if not items:
        return Shown(f"{type_name}(nil)")
    return Shown(type_name + "{" + ", ".join(f'"{v}"' for v in items) + "}")


def go_families(values: Iterable[str]) -> Shown:
    return go_strings(values, "[]core.IPFamily")


def port_number(path: str, value: int) -> list[FieldError]:
    return [] if 1 <= value <= 65535 else [fields.invalid(path, value, PORT_RANGE)]


def port_name(path: str, name: str) -> list[FieldError]:
    """IsValidPortName: an IANA service name."""
    msgs = []
    if len(name) > 15:
        msgs.append("must be no more than 15 characters")
    if not _PORT_NAME_CHARS.match(name):
        msgs.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if not re.search("[a-z]", name):
        msgs.append("must contain at least one letter (a-z)")
    if "--" in name:
        msgs.append("must not contain consecutive hyphens")
    if name and (name[0] == "-" or name[-1] == "-"):
        msgs.append("must not begin or end with a hyphen")
    return [fields.invalid(path, name, m) for m in msgs]


def port_number_or_name(path: str, value: str) -> list[FieldError]:
    """ValidatePortNumOrName of an int-or-string."""
    number = svc_helper.target_port_number(value)
    if number is not None:
        return port_number(path, number)
    return port_name(path, value)


def protocol(path: str, value: str) -> list[FieldError]:
    if not value:
        return [fields.required(path)]
    if value not in PROTOCOLS:
        return [fields.unsupported(path, value, PROTOCOLS)]
    return []


def qualified_name(path: str, value: str) -> list[FieldError]:
    """ValidateQualifiedName (appProtocol, loadBalancerClass)."""
    return fields.qualified_name(path, value)


def valid_ip(path: str, value: str) -> list[FieldError]:
    return [] if svc_helper.ip_family(value) else [fields.invalid(path, value, INVALID_IP)]


def non_special_ip(path: str, value: str) -> list[FieldError]:
    """ValidateNonSpecialIP: no unspecified, loopback or link-local address (external IPs,
    endpoint addresses)."""
    try:
        ip = ipaddress.ip_address(value)
    except ValueError:
        return [fields.invalid(path, value, "must be a valid IP address")]
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    errs = []
    if ip.is_unspecified:
        errs.append(fields.invalid(path, value, f"may not be unspecified ({value})"))
    if ip.is_loopback:
        errs.append(
            fields.invalid(path, value, "may not be in the loopback range (127.0.0.0/8, ::1/128)")
        )
    if ip.is_link_local:
        errs.append(
            fields.invalid(
                path, value, "may not be in the link-local range (169.254.0.0/16, fe80::/10)"
            )
        )
    link_local_multicast = (
        ip in ipaddress.ip_network("224.0.0.0/24")
        if ip.version == 4
        else ip in ipaddress.ip_network("ff02::/16")
    )
    if link_local_multicast:
        errs.append(
            fields.invalid(
                path,
                value,
                "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)",
            )
        )
    return errs


def valid_cidr(path: str, value: str) -> list[FieldError]:
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        return [fields.invalid(path, value, INVALID_CIDR)]
    return [] if "/" in value else [fields.invalid(path, value, INVALID_CIDR)]
