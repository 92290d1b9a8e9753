"""The flags of a component's connection to the apiserver (component-base's client options): its
address, --server, and the credentials it proves itself with (--ca-file, --cert-file, --key-file,
--token-file), read from the flags alone: a component reads no user settings."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from podplane.client.credentials import (
    Credentials,
    CredentialsError,
    add_credential_flags,
    credentials_from,
)
from podplane.componentbase import flags

SERVER_HELP = "the apiserver, HOST:PORT"


@dataclass(frozen=True)
class ClientConfig:
    """Where the apiserver is, and the credentials for it (None: a plaintext apiserver)."""

    server: str
    credentials: Credentials | None


def add_server_flag(
    parser: argparse.ArgumentParser,
    *aliases: str,
    help: str,
    required: bool = False,
    default: object = None,
) -> None:
    """--server, the apiserver's HOST:PORT: required of a component; a tool (podctl, the
    benchmarks) defaults it and takes its credentials from the user's settings instead."""
    parser.add_argument("--server", *aliases, required=required, default=default, help=help)


def add_flags(parser: argparse.ArgumentParser, *, server_help: str = SERVER_HELP) -> None:
    """A component's --server (required) and credential flags (a group of their own in
    --help)."""
    add_server_flag(parser, help=server_help, required=True)
    add_credential_flags(parser)


def config_from_flags(parser: argparse.ArgumentParser, args: argparse.Namespace) -> ClientConfig:
    """The connection the flags describe; a bad value exits through parser.error, naming the
    flag."""
    try:
        server = flags.address(args.server)
    except argparse.ArgumentTypeError as e:
        parser.error(f"--server: {e}")
    try:
        credentials = credentials_from(args, env={})
    except CredentialsError as e:
        parser.error(str(e))
    return ClientConfig(server=server, credentials=credentials)


class ClientOptions:
    """The connection to the apiserver as an option group (podplane.componentbase.options):
    validated, args.client is its ClientConfig, and args.server and args.credentials its
    parts."""

    def __init__(self, *, server_help: str = SERVER_HELP) -> None:
        self.server_help = server_help

    def add_flags(self, parser: argparse.ArgumentParser) -> None:
        add_flags(parser, server_help=self.server_help)

    def validate(self, parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
        args.client = config_from_flags(parser, args)
        args.server, args.credentials = args.client.server, args.client.credentials
