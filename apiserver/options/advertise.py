"""The address the apiserver publishes as the `kubernetes` Service's endpoint
(--advertise-address; kube-apiserver's default: the bind address, else the address of the host's
default route), and its external address (that address and the secure port)."""

from __future__ import annotations

import ipaddress
import socket

# A routable address, whichever: connecting a UDP socket sends nothing, it only picks the route.
_PROBE = ("192.0.2.1", 9)


def default_advertise_address(bind_host: str) -> str | None:
    """The bind address when it is a specific one, else the source address of the default
    route; None when there is none but loopback (pods could not reach it)."""
    try:
        bound = ipaddress.ip_address(bind_host.strip("[]"))
    except ValueError:
        bound = None
    if bound is not None and not (bound.is_unspecified or bound.is_loopback):
        return str(bound)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(_PROBE)
            address = str(s.getsockname()[0])
        except OSError:
            return None
    return None if ipaddress.ip_address(address).is_loopback else address


def external_address(advertise_address: str | None, serving_address: str) -> str:
    """HOST:PORT clients reach the REST door at (kube-apiserver's ExternalAddress, where the
    issuer discovery's default jwks_uri points): the advertised address and the serving port."""
    bind_host, _, port = serving_address.rpartition(":")
    host = advertise_address or default_advertise_address(bind_host) or bind_host.strip("[]")
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
