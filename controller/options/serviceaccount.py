"""The CA published in every namespace's kube-root-ca.crt (SAControllerOptions' --root-ca-file).
Validated after the apiserver connection, whose CA is the default."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--root-ca-file",
        default="",
        help="the CA bundle published in every namespace's kube-root-ca.crt ConfigMap "
        "(default: --ca-file, the CA this controller-manager verifies the apiserver with)",
    )


def validate(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """args.root_ca is --root-ca-file's PEM text, else --ca-file's; "" without either
    (plaintext to a local apiserver: there is no CA to publish)."""
    path = args.root_ca_file or (args.credentials.ca_file if args.credentials else "")
    args.root_ca = ""
    if path:
        try:
            args.root_ca = Path(path).read_text()
        except (OSError, UnicodeDecodeError) as e:
            parser.error(f"--root-ca-file: cannot read {path}: {e}")
