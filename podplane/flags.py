"""Command-line value checks shared by the services, so a bad setting is refused at start with a
message naming it."""
from __future__ import annotations

import argparse
import re

_HOST_PORT = re.compile(r"^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):([0-9]{1,5})$")


def address(value: str) -> str:
    """HOST:PORT, e.g. apiserver:6443."""
    m = _HOST_PORT.match(value)
    if not m or not 0 < int(m.group(2)) < 65536:
        raise argparse.ArgumentTypeError(f"{value!r} is not HOST:PORT (e.g. apiserver:6443)")
    return value


def port(value: str) -> int:
    """A port number; 0 lets the system pick one."""
    if not value.isdigit() or not 0 <= int(value) < 65536:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port number (0-65535)")
    return int(value)


def listen_address(bind_address: str, port_number: int) -> str:
    host = bind_address if ":" not in bind_address else f"[{bind_address}]"
    return f"{host}:{port_number}"


def metrics_address(value: str) -> str:
    """HOST:PORT of a /metrics endpoint; "" turns it off."""
    from podplane.metrics import parse_bind_address
    try:
        parse_bind_address(value)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    return value
