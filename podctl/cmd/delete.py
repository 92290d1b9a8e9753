"""`podctl delete`: by type and name, by -f manifest, or by selector; waits until gone by
default."""

from __future__ import annotations

import argparse
import sys

from google.protobuf.message import Message

from podctl.cmd.flags import Subparsers, add_file_flags, parse_duration
from podctl.errors import CommandError, server_error_message
from podctl.options import GlobalOptions
from podctl.resource.deletion import deleted_message, wait_until_gone
from podctl.resource.targets import resolve_targets
from podplane.apimachinery.meta import object_meta
from podplane.apimachinery.resources import Resource
from podplane.client.clientset import is_not_found

FORCE_WARNING = (
    "Warning: Immediate deletion does not wait for confirmation that the running "
    "resource has been terminated. The resource may continue to run on the cluster "
    "indefinitely."
)
# With --timeout=0: kubectl waits a week; a grace period and a margin is plenty here.
DEFAULT_WAIT_MARGIN = 60.0
DEFAULT_GRACE_PERIOD = 30


def add_parser(subparsers: Subparsers, parents: list[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser("delete", parents=parents, help="delete objects")
    p.add_argument("args", nargs="*", metavar="TYPE[.NAME]", help="pod NAME..., pod/NAME, ...")
    add_file_flags(p, "delete")
    p.add_argument("-l", "--selector", default="", help="delete the objects this selector matches")
    p.add_argument("--all", action="store_true", help="delete every object of the type")
    p.add_argument(
        "--grace-period",
        type=int,
        default=-1,
        help="seconds the object has to terminate gracefully (-1: its own default)",
    )
    p.add_argument("--force", action="store_true", help="delete at once, with --grace-period=0")
    p.add_argument("--now", action="store_true", help="delete with a grace period of 1 second")
    p.add_argument(
        "--wait",
        default="true",
        choices=("true", "false"),
        help="wait until the objects are gone (default true)",
    )
    p.add_argument("--timeout", default="0s", help="how long to wait (0: from the grace period)")
    p.add_argument("--ignore-not-found", action="store_true", help="not finding the object is fine")
    p.set_defaults(run=run)


def grace_period(args: argparse.Namespace) -> int | None:
    """kubectl's rules: --now means 1s; 0 without --force means 1s; --force alone means 0."""
    period: int = args.grace_period
    if args.now:
        if period != -1:
            raise CommandError("error: --now and --grace-period cannot be specified together")
        period = 1
    if period == 0 and not args.force:
        period = 1
    if args.force and period < 0:
        period = 0
    return None if period < 0 else period


async def run(args: argparse.Namespace, options: GlobalOptions) -> int:
    period = grace_period(args)
    if args.force and period == 0:
        print(FORCE_WARNING, file=sys.stderr)
    timeout = parse_duration(args.timeout)
    failed = False
    async with options.connect() as client:
        targets = await resolve_targets(client, args, options, "delete")
        if not targets and not args.filename:
            print("No resources found", file=sys.stderr)
        pending: list[tuple[Resource, str, str, str, float]] = []
        for resource, name, namespace in targets:
            api = client.for_resource(resource)
            try:
                deleted: Message = await api.delete(name, namespace, grace_period_seconds=period)
            except Exception as e:  # noqa: BLE001 - reported; the other objects still go
                if is_not_found(e) and args.ignore_not_found:
                    continue
                print(server_error_message(e, options.server), file=sys.stderr)
                failed = True
                continue
            print(deleted_message(resource, name, args.force and period == 0))
            meta = object_meta(deleted)
            grace = meta.deletion_grace_period_seconds or period or DEFAULT_GRACE_PERIOD
            pending.append(
                (resource, name, namespace, meta.uid, timeout or grace + DEFAULT_WAIT_MARGIN)
            )
        if args.wait == "true":
            for resource, name, namespace, uid, wait_for in pending:
                await wait_until_gone(
                    client.for_resource(resource), resource, name, namespace, uid, wait_for
                )
    return 1 if failed else 0
