"""The kubelet's two servers: its HTTPS API on --port (Kubernetes' kubelet API: /pods, /stats,
/metrics, /containerLogs, ...) and podplane's gRPC kubelet service on --grpc-port (logs, exec,
attach, port-forward for the apiserver); both with TLS and the callers' certificates checked
against a CA (the apiserver's), or plaintext."""

from __future__ import annotations

import argparse
from pathlib import Path

from podplane.apimachinery.kubelet_endpoints import DEFAULT_GRPC_PORT, GRPC_PORT_ANNOTATION
from podplane.componentbase.options import fail


def add_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("the kubelet API")
    g.add_argument(
        "--port",
        type=int,
        default=10250,
        help="the kubelet's HTTPS API port (/pods, /stats/summary, /metrics/*, "
        "/containerLogs), advertised in the Node's status.daemonEndpoints; default 10250",
    )
    g.add_argument(
        "--grpc-port",
        type=int,
        default=DEFAULT_GRPC_PORT,
        help="podplane's gRPC kubelet service port (logs, exec, attach, port-forward for the "
        f"apiserver), advertised in the Node's {GRPC_PORT_ANNOTATION} annotation; default "
        f"{DEFAULT_GRPC_PORT}",
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
    for flag, port in (("--port", args.port), ("--grpc-port", args.grpc_port)):
        if not 0 <= port < 65536:
            fail(parser, flag, f"{port} is not a port number")
    if args.port and args.port == args.grpc_port:
        fail(parser, "--grpc-port", f"{args.grpc_port} is --port's too")
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
