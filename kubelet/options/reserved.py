"""Resources set aside from the node's allocatable for Kubernetes' daemons and the system
(--kube-reserved, --system-reserved)."""

from __future__ import annotations

import argparse

from podplane.apimachinery import quantity
from podplane.componentbase.options import fail

_RESERVABLE = ("cpu", "memory", "ephemeral-storage")


def add_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("reserved resources")
    g.add_argument(
        "--kube-reserved",
        default="",
        help="resources set aside for Kubernetes' daemons, e.g. cpu=100m,memory=100Mi",
    )
    g.add_argument(
        "--system-reserved",
        default="",
        help="resources set aside for the system, e.g. cpu=100m,memory=100Mi",
    )


def validate(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Each becomes a dict of resource to quantity."""
    for flag in ("kube_reserved", "system_reserved"):
        try:
            setattr(args, flag, reserved(getattr(args, flag)))
        except ValueError as e:
            fail(parser, "--" + flag.replace("_", "-"), str(e))


def reserved(value: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in filter(None, (p.strip() for p in value.split(","))):
        name, sep, amount = item.partition("=")
        if not sep or name not in _RESERVABLE:
            raise ValueError(
                f'"{item}" is not RESOURCE=QUANTITY with a resource of {", ".join(_RESERVABLE)}'
            )
        try:
            if quantity.parse(amount) < 0:
                raise ValueError
        except (quantity.QuantityError, ValueError):
            raise ValueError(f'"{amount}" is not a non-negative quantity') from None
        out[name] = amount
    return out
