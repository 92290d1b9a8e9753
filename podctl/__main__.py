"""podctl's entry point: the verbs, the shared flags, and the one place errors become exit codes."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from podctl.cmd import (
    addon_manager,
    apply,
    debug,
    delete,
    describe,
    get,
    logs,
    rollout,
    scale,
    token,
)
from podctl.cmd import exec as exec_cmd
from podctl.errors import CommandError, server_error_message
from podctl.options import Connector, add_global_flags, global_options

INTERRUPTED_EXIT_CODE = 130
# Set to see the traceback behind an unexpected error instead of its one-line summary.
DEBUG_ENV = "PODCTL_DEBUG"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="podctl", description="podctl controls the podplane cluster, the way kubectl does."
    )
    add_global_flags(parser, suppress_defaults=False)
    shared = argparse.ArgumentParser(add_help=False)
    add_global_flags(shared, suppress_defaults=True)
    subparsers = parser.add_subparsers(dest="verb", metavar="COMMAND")
    apply.add_parsers(subparsers, [shared])
    get.add_parser(subparsers, [shared])
    describe.add_parser(subparsers, [shared])
    delete.add_parser(subparsers, [shared])
    logs.add_parser(subparsers, [shared])
    exec_cmd.add_parser(subparsers, [shared])
    debug.add_parser(subparsers, [shared])
    rollout.add_parser(subparsers, [shared])
    scale.add_parser(subparsers, [shared])
    token.add_parser(subparsers, [shared])
    addon_manager.add_parser(subparsers, [shared])
    return parser


def run(argv: Sequence[str], connector: Connector | None = None) -> int:
    """Runs one command line; `connector` replaces the real apiserver connection in tests."""
    parser = build_parser()
    argv, dashed_command = exec_cmd.split_command(argv)
    args = parser.parse_args(argv)
    if dashed_command is not None:
        args.dashed_command = dashed_command
    if args.verb is None:
        parser.print_help()
        return 0
    options = None
    try:
        options = global_options(args, connector)
        code: int = asyncio.run(args.run(args, options))
        return code
    except CommandError as e:
        print(e.message, file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        return INTERRUPTED_EXIT_CODE
    except BrokenPipeError:
        # The reader went away (`podctl logs pod | head`): nothing left to say, and nowhere to
        # flush what is still buffered.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as e:  # a server error that no verb handled itself
        if os.environ.get(DEBUG_ENV):
            raise
        server = options.server if options else ""
        print(server_error_message(e, server), file=sys.stderr)
        return 1


def exit_now(code: int) -> NoReturn:
    """Ends the process once a command is done: its calls are answered and its channel closed
    (run() returns after both), what it printed is flushed here. Not through interpreter exit:
    gRPC core's exit handler (its OpenSSL cleanup) waits for the library's threads to wind down,
    up to 2 s (grpc/grpc#38679), which every command would pay after printing."""
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a reader gone, or a stream closed
            stream.flush()
    os._exit(code)


def main() -> None:
    exit_now(run(sys.argv[1:]))


if __name__ == "__main__":
    main()
