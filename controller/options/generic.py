"""Which controllers run (kube-controller-manager's --controllers)."""

from __future__ import annotations

import argparse

from controller.controllers import CONTROLLERS


def _controllers(value: str) -> list[str]:
    names = [n.strip() for n in value.split(",") if n.strip()]
    unknown = [n for n in names if n not in CONTROLLERS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown controller(s) {unknown or value!r}; known: {', '.join(CONTROLLERS)}"
        )
    return names


def add_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--controllers",
        type=_controllers,
        default=list(CONTROLLERS),
        help=f"comma-separated controllers to run (default all: {','.join(CONTROLLERS)})",
    )


def validate(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Checked by the flag's type."""
