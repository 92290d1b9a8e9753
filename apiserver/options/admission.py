"""Which admission plugins run (kube-apiserver's AdmissionOptions): --disable-admission-plugins
turns off optional ones, as Kubernetes' own integration tests turn ServiceAccount off where no
controller-manager makes the default accounts."""

from __future__ import annotations

import argparse

from apiserver.admission.plugins import OPTIONAL


def add_flags(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("admission")
    g.add_argument(
        "--disable-admission-plugins",
        default="",
        help="admission plugins to turn off, comma-separated (of: "
        f"{', '.join(OPTIONAL)}); Kubernetes' own integration tests turn "
        "ServiceAccount off where no controller-manager makes the default accounts",
    )


def validate(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Sets args.disable_admission_plugins to the set of names, each a known optional plugin."""
    args.disable_admission_plugins = frozenset(
        name for name in args.disable_admission_plugins.split(",") if name
    )
    for name in sorted(args.disable_admission_plugins - set(OPTIONAL)):
        parser.error(f'--disable-admission-plugins: admission plugin "{name}" is unknown')
