"""`podctl describe`: kubectl's detailed, human-oriented view of pods, nodes and namespaces."""

from __future__ import annotations

import argparse
import sys

from google.protobuf.message import Message

from podctl.cmd.flags import Subparsers
from podctl.describe.describer import DESCRIBABLE, describe_object
from podctl.errors import CommandError, server_error_message
from podctl.options import GlobalOptions
from podctl.resource.targets import Targets, parse_targets
from podplane.apimachinery.meta import object_meta
from podplane.client.clientset import Client, is_not_found


def add_parser(subparsers: Subparsers, parents: list[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser("describe", parents=parents, help="show details of objects")
    p.add_argument(
        "args",
        nargs="+",
        metavar="TYPE[.NAME_PREFIX]",
        help="pod NAME, pods, node NAME, nodes, pod/NAME, ...",
    )
    p.add_argument("-l", "--selector", default="", help="label selector")
    p.add_argument(
        "--show-events",
        default="true",
        choices=("true", "false"),
        help="include the events about the object (default true)",
    )
    p.set_defaults(run=run)


async def _find(
    client: Client, targets: Targets, selector: str, options: GlobalOptions
) -> tuple[list[Message], list[str]]:
    """The objects to describe: by name, else by name prefix (as kubectl), else all that match."""
    api = client.for_resource(targets.resource)
    namespace = options.object_namespace(targets.resource)
    if not targets.names:
        items, _ = await api.list_all(
            options.list_namespace(targets.resource), label_selector=selector
        )
        return list(items), []
    found: list[Message] = []
    errors: list[str] = []
    for name in targets.names:
        try:
            found.append(await api.get(name, namespace))
            continue
        except Exception as e:
            if not is_not_found(e):
                raise
            not_found = server_error_message(e, options.server)
        items, _ = await api.list_all(namespace, label_selector=selector)
        matching = [o for o in items if object_meta(o).name.startswith(name)]
        if matching:
            found.extend(matching)
        else:
            errors.append(not_found)
    return found, errors


async def run(args: argparse.Namespace, options: GlobalOptions) -> int:
    groups = parse_targets(args.args, "describe")
    for targets in groups:
        if targets.resource not in DESCRIBABLE:
            raise CommandError(f"error: describing {targets.resource.plural} is not supported yet")
    failed = False
    printed = 0
    async with options.connect() as client:
        for targets in groups:
            found, errors = await _find(client, targets, args.selector, options)
            for obj in found:
                text = await describe_object(
                    client, obj, targets.resource, args.show_events == "true"
                )
                sys.stdout.write(("\n\n" if printed else "") + text)
                sys.stdout.flush()
                printed += 1
            for line in errors:
                print(line, file=sys.stderr)
            failed = failed or bool(errors)
            if not found and not errors:
                namespace = options.list_namespace(targets.resource)
                print(
                    f"No resources found in {namespace} namespace."
                    if namespace
                    else "No resources found",
                    file=sys.stderr,
                )
    return 1 if failed else 0
