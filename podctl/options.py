"""The flags every verb shares: where the server is and which namespace to act in."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field

from podctl.connection import connect, default_server
from podctl.errors import usage_error
from podplane.apimachinery.resources import Resource
from podplane.client.clientset import Client
from podplane.componentbase import client_flags

DEFAULT_NAMESPACE = "default"
Connector = Callable[[str], AbstractAsyncContextManager[Client]]


@dataclass
class GlobalOptions:
    server: str
    # None when -n was not given: a manifest's own namespace then wins.
    namespace_flag: str | None = None
    all_namespaces: bool = False
    # How to reach the apiserver; unit tests substitute a fake.
    connector: Connector = field(default=connect)

    @property
    def namespace(self) -> str:
        return self.namespace_flag or DEFAULT_NAMESPACE

    def connect(self) -> AbstractAsyncContextManager[Client]:
        return self.connector(self.server)

    def list_namespace(self, resource: Resource) -> str:
        """The namespace to list in: every namespace with -A, none for cluster-scoped resources."""
        if not resource.namespaced or self.all_namespaces:
            return ""
        return self.namespace

    def object_namespace(self, resource: Resource) -> str:
        return self.namespace if resource.namespaced else ""


def add_global_flags(parser: argparse.ArgumentParser, *, suppress_defaults: bool) -> None:
    """Adds --server, -n and -A. Subcommands add them too (kubectl takes flags anywhere), with
    suppressed defaults so a flag given before the verb is not reset by the subcommand's parser."""

    def default(value: object) -> object:
        return argparse.SUPPRESS if suppress_defaults else value

    client_flags.add_server_flag(
        parser,
        "-s",
        default=default(None),
        help="address of the apiserver (default $PODPLANE_SERVER or localhost:6443)",
    )
    parser.add_argument(
        "-n",
        "--namespace",
        default=default(None),
        help='the namespace to act in (default "default")',
    )
    parser.add_argument(
        "-A",
        "--all-namespaces",
        action="store_true",
        default=default(False),
        help="list across all namespaces",
    )


def global_options(args: argparse.Namespace, connector: Connector | None = None) -> GlobalOptions:
    namespace = args.namespace
    if namespace is not None and not namespace:
        raise usage_error("a namespace must be specified when using -n/--namespace")
    return GlobalOptions(
        server=args.server or default_server(),
        namespace_flag=namespace,
        all_namespaces=bool(args.all_namespaces),
        connector=connector or connect,
    )
