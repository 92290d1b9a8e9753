"""TLS bootstrapping, as kubeadm join sets it up: with no client certificate yet, the kubelet
asks for one with a bootstrap token at the apiserver's token port and keeps it in --cert-dir; and
its serving certificate from the cluster (--rotate-server-certificates). Validated after the
apiserver connection (args.client) and the runtime (args.root_dir)."""

from __future__ import annotations

import argparse
from pathlib import Path

from podplane.componentbase import flags
from podplane.componentbase.options import fail


def add_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("TLS bootstrapping")
    g.add_argument(
        "--bootstrap-token-file",
        default="",
        help="a bootstrap token (<id>.<secret>) to ask for the node's client certificate with, "
        "when there is none yet in --cert-dir (TLS bootstrapping, as kubeadm join sets it up)",
    )
    g.add_argument(
        "--bootstrap-server",
        default="",
        help="HOST:PORT where the apiserver takes bearer tokens (its --token-port), for "
        "--bootstrap-token-file",
    )
    g.add_argument(
        "--cert-dir",
        default="",
        help="where the bootstrapped client certificate is kept (kubelet-client-current.pem); "
        "default: <root-dir>/pki",
    )
    flags.add_boolean(
        g,
        "--rotate-server-certificates",
        default=False,
        help="without --tls-cert-file, ask the cluster for a serving certificate (signer "
        "kubernetes.io/kubelet-serving, approved by an administrator) and keep it in --cert-dir "
        "(kubelet-server-current.pem)",
    )


def validate(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """args.cert_dir defaults to <root-dir>/pki."""
    if args.bootstrap_token_file:
        try:
            Path(args.bootstrap_token_file).read_bytes()
        except OSError as e:
            fail(
                parser,
                "--bootstrap-token-file",
                f"cannot read {args.bootstrap_token_file}: {e.strerror}",
            )
        if not args.bootstrap_server:
            fail(parser, "--bootstrap-server", "required with --bootstrap-token-file")
        if args.client.credentials is None:
            fail(parser, "--ca-file", "required with --bootstrap-token-file")
    elif args.bootstrap_server:
        fail(parser, "--bootstrap-token-file", "required with --bootstrap-server")
    if args.rotate_server_certificates and args.client.credentials is None:
        fail(parser, "--ca-file", "required with --rotate-server-certificates")
    args.cert_dir = args.cert_dir or f"{args.root_dir.rstrip('/')}/pki"
