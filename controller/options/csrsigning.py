"""The CA the csrsigning controller issues certificates with, and their longest validity
(CSRSigningControllerOptions)."""

from __future__ import annotations

import argparse

from controller.framework.manager import ControllerOptions
from podplane.componentbase import flags


def add_flags(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("certificate signing")
    g.add_argument(
        "--cluster-signing-cert-file",
        default="",
        help="PEM CA certificate the csrsigning controller issues certificates with",
    )
    g.add_argument(
        "--cluster-signing-key-file",
        default="",
        help="PEM private key of --cluster-signing-cert-file",
    )
    g.add_argument(
        "--cluster-signing-duration",
        type=flags.duration,
        default=ControllerOptions.cluster_signing_duration,
        help="the longest validity of the certificates csrsigning issues (default 8760h)",
    )


def validate(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if bool(args.cluster_signing_cert_file) != bool(args.cluster_signing_key_file):
        parser.error("--cluster-signing-cert-file and --cluster-signing-key-file go together")
