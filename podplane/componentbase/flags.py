"""Command-line value checks shared by the services, so a bad setting is refused at start with a
message naming it."""

from __future__ import annotations

import argparse
import ipaddress
import math
import re
import urllib.parse

_HOST_PORT = re.compile(r"^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):([0-9]{1,5})$")


# An RFC 1123 subdomain, as Kubernetes' validation.IsDNS1123Subdomain checks names and domains.
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")


def is_dns_subdomain(value: str) -> bool:
    """At most 253 characters of lowercase RFC 1123 labels joined by dots (a node's name, a
    scheduler's, a cluster domain)."""
    return len(value) <= 253 and _DNS_SUBDOMAIN.fullmatch(value) is not None


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


def positive_int(value: str) -> int:
    """A whole number >= 1."""
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r}: expected an integer") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value!r}: expected a positive integer")
    return number


def listen_address(bind_address: str, port_number: int) -> str:
    host = bind_address if ":" not in bind_address else f"[{bind_address}]"
    return f"{host}:{port_number}"


def metrics_address(value: str) -> str:
    """HOST:PORT of a /metrics endpoint; "" turns it off."""
    from podplane.componentbase.metrics import parse_bind_address

    try:
        parse_bind_address(value)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    return value


_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ms|s|m|h)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def duration(value: str) -> float:
    """A duration flag in seconds: Go's form ("15s", "1m30s", "500ms") or a number of seconds."""
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        parts = _DURATION_PART.findall(text)
        if not parts or "".join(n + u for n, u in parts) != text:
            raise argparse.ArgumentTypeError(
                f"{value!r} is not a duration (e.g. 15s, 1m30s, 500ms)"
            ) from None
        seconds = sum(float(n) * _UNIT_SECONDS[u] for n, u in parts)
    if seconds <= 0 or not math.isfinite(seconds):
        raise argparse.ArgumentTypeError(f"{value!r}: must be greater than zero")
    return seconds


# Go's strconv.ParseBool, which pflag's bool flags parse with.
_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})


def boolean(value: str) -> bool:
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise argparse.ArgumentTypeError(f"{value!r} is not a boolean (true or false)")


def add_boolean(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup,
    name: str,
    *,
    default: bool,
    help: str,
) -> None:
    """A Kubernetes bool flag as pflag parses it: `--name` alone is true, `--name=true` and
    `--name=false` say which (the values of Go's strconv.ParseBool)."""
    parser.add_argument(name, type=boolean, nargs="?", const=True, default=default, help=help)


def ip_address(value: str) -> str:
    """A --bind-address: an IP address to listen on (0.0.0.0 or :: for every interface)."""
    try:
        ipaddress.ip_address(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not an IP address (e.g. 0.0.0.0 or 127.0.0.1)"
        ) from None
    return value


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def log_level(value: str) -> str:
    upper = value.strip().upper()
    if upper not in LOG_LEVELS:
        raise argparse.ArgumentTypeError(f"{value!r} is not one of {', '.join(LOG_LEVELS)}")
    return upper


def url_list(value: str) -> list[str]:
    """Comma-separated http(s)://HOST:PORT URLs, as kube-apiserver's --etcd-servers."""
    urls = [u.strip() for u in value.split(",") if u.strip()]
    if not urls:
        raise argparse.ArgumentTypeError("at least one URL is required (e.g. http://etcd:2379)")
    for url in urls:
        parts = urllib.parse.urlsplit(url)
        try:
            port = parts.port
        except ValueError:
            port = -1
        port = None if port == 0 else port
        if (
            parts.scheme not in ("http", "https")
            or not parts.hostname
            or port in (-1, None)
            or parts.path not in ("", "/")
            or parts.query
            or parts.fragment
        ):
            raise argparse.ArgumentTypeError(
                f"{url!r} is not an http(s)://HOST:PORT URL (e.g. http://etcd:2379)"
            )
    return urls
