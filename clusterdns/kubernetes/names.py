"""What a name under the cluster domain asks for (CoreDNS's parseRequest), and the address a
reverse name stands for.

Under the zone (cluster.local), left to right:

    <service>.<namespace>.svc                       a Service
    <endpoint>.<service>.<namespace>.svc            one endpoint of it (hostname or a-b-c-d)
    _<port>._<protocol>.<service>.<namespace>.svc   its SRV records for a named port
    <a-b-c-d>.<namespace>.pod                       a pod, by its IP
    <namespace>.svc, <namespace>.pod, svc, pod      names with nothing of their own
    dns-version                                     the specification's version (TXT)
    ns.dns                                          the zone's nameserver

Anything else under the zone does not exist."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

SERVICE, POD = "svc", "pod"
# Kinds of request that are not a Service's or a pod's.
APEX, DNS_VERSION, NAMESERVER, INVALID = "apex", "dns-version", "nameserver", "invalid"


@dataclass(frozen=True)
class Request:
    kind: str
    namespace: str = ""
    # The Service's name, or (for a pod) the pod's dashed IP.
    name: str = ""
    endpoint: str = ""
    # A SRV query's port name and protocol, without their underscores.
    port: str = ""
    protocol: str = ""


def parse(labels: tuple[str, ...]) -> Request:
    """The request of the labels below the zone (lower case, left to right)."""
    if not labels:
        return Request(APEX)
    if labels == ("dns-version",):
        return Request(DNS_VERSION)
    if labels == ("ns", "dns"):
        return Request(NAMESERVER)
    kind, rest = labels[-1], labels[:-1]
    if kind not in (SERVICE, POD) or any(not label for label in rest):
        return Request(INVALID)
    if len(rest) == 0:
        return Request(kind)
    if len(rest) == 1:
        return Request(kind, namespace=rest[0])
    if len(rest) == 2:
        return Request(kind, namespace=rest[1], name=rest[0])
    if kind == POD:
        return Request(INVALID)
    if len(rest) == 3 and not rest[0].startswith("_"):
        return Request(kind, namespace=rest[2], name=rest[1], endpoint=rest[0])
    if len(rest) == 4 and rest[0].startswith("_") and rest[1].startswith("_"):
        return Request(
            kind, namespace=rest[3], name=rest[2], port=rest[0][1:], protocol=rest[1][1:]
        )
    return Request(INVALID)


def dashed(ip: str) -> str:
    """An address as one DNS label: 10.244.1.5 -> 10-244-1-5 (IPv6: colons to dashes)."""
    return ip.replace(".", "-").replace(":", "-")


def undashed(label: str) -> str | None:
    """The address a dashed label names, or None (CoreDNS: three dashes and no "--" is IPv4)."""
    if label.count("-") == 3 and "--" not in label:
        text = label.replace("-", ".")
    else:
        text = label.replace("-", ":")
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def reverse_address(labels: tuple[str, ...], zone: str) -> str | None:
    """The address of a reverse name's labels below in-addr.arpa (d.c.b.a) or ip6.arpa (32
    nibbles, last first); None if they do not name a whole address."""
    try:
        if zone == "in-addr.arpa." and len(labels) == 4:
            return str(ipaddress.IPv4Address(".".join(reversed(labels))))
        if zone == "ip6.arpa." and len(labels) == 32 and all(len(n) == 1 for n in labels):
            nibbles = "".join(reversed(labels))
            groups = ":".join(nibbles[i : i + 4] for i in range(0, 32, 4))
            return str(ipaddress.IPv6Address(groups))
    except ValueError:
        return None
    return None
