"""The kubelet API (logs, exec, attach, port-forward): its port, and TLS with the callers'
certificates checked against a CA (the apiserver's), or plaintext."""

from __future__ import annotations

import argparse
from pathlib import Path

from podplane.componentbase.options import fail


def add_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("the kubelet API")
    g.add_argument(
        "--port",
        type=int,
        default=10250,
        help="the kubelet API port (container logs); default 10250",
    )
    g.add_argument(
        "--tls-cert-file",
        default="",
        help="the kubelet API's serving certificate (PEM); default: plaintext",
    )
    g.add_argument("--tls-private-key-file", default="", help="the key of --tls-cert-file")
    g.add_argument(
        "--client-ca-file",
        default="",
        help="CA of the client certificates the kubelet API accepts (the apiserver's)",
    )


def validate(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if not 0 <= args.port < 65536:
        fail(parser, "--port", f"{args.port} is not a port number")
    tls = {
        "--tls-cert-file": args.tls_cert_file,
        "--tls-private-key-file": args.tls_private_key_file,
        "--client-ca-file": args.client_ca_file,
    }
    for flag, path in tls.items():
        if any(tls.values()) and not path:
            fail(parser, flag, "required with the other TLS serving flags")
        if path:
            try:
                Path(path).read_bytes()
            except OSError as e:
                fail(parser, flag, f"cannot read {path}: {e.strerror}")
