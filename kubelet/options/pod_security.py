"""What pods may do beyond the defaults on this node: unsafe sysctls, and the seccomp profile of
containers that set none."""

from __future__ import annotations

import argparse

from kubelet.admission.sysctls import SysctlAllowlist
from podplane.componentbase import flags
from podplane.componentbase.options import fail


def add_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("pod security")
    g.add_argument(
        "--allowed-unsafe-sysctls",
        default="",
        help="comma-separated unsafe sysctls or prefixes ending in * that pods may set besides "
        "the safe ones (e.g. 'kernel.msg*,net.core.somaxconn'); default none",
    )
    flags.add_boolean(
        g,
        "--seccomp-default",
        default=False,
        help="run containers that set no seccomp profile with the runtime's default profile "
        "(RuntimeDefault) instead of Unconfined",
    )


def validate(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """args.allowed_unsafe_sysctls becomes a tuple of names and prefixes."""
    args.allowed_unsafe_sysctls = tuple(
        filter(None, (a.strip() for a in args.allowed_unsafe_sysctls.split(",")))
    )
    try:
        SysctlAllowlist(args.allowed_unsafe_sysctls)
    except ValueError as e:
        fail(parser, "--allowed-unsafe-sysctls", str(e))
