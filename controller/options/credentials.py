"""Which identity the controllers run as (KubeCloudSharedOptions'
--use-service-account-credentials): the manager's own (the default, as Kubernetes'), or each
controller its own service account kube-system/<name> (controller/framework/client_builder.py).
Validated after the apiserver connection: a service account's token goes only over TLS, to the
apiserver's token port (--token-server; the gRPC door's main port asks for a client
certificate)."""

from __future__ import annotations

import argparse

from podplane.componentbase import flags

# The apiserver's --token-port default (apiserver/options/security.py).
DEFAULT_TOKEN_PORT = 6444


def add_flags(parser: argparse.ArgumentParser) -> None:
    flags.add_boolean(
        parser,
        "--use-service-account-credentials",
        default=False,
        help="run each controller with its own service account's credentials (kube-system/"
        "<name>, given a token through the TokenRequest API); default false: the "
        "controller-manager's own",
    )
    parser.add_argument(
        "--token-server",
        type=flags.address,
        default=None,
        help="HOST:PORT where the apiserver takes bearer tokens (its --token-port), for "
        f"--use-service-account-credentials (default: --server's host, port {DEFAULT_TOKEN_PORT})",
    )


def validate(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """args.token_server defaults to --server's host at the default token port."""
    if args.use_service_account_credentials and args.credentials is None:
        parser.error(
            "--use-service-account-credentials: needs TLS to the apiserver (--ca-file): a "
            "service account's token is never sent in plaintext"
        )
    if not args.token_server:
        host = args.server.rpartition(":")[0] or args.server
        args.token_server = f"{host}:{DEFAULT_TOKEN_PORT}"
