"""`podctl get`: tables, -o yaml|json|name|wide, selectors and --watch, as kubectl prints them.
With --watch, one row (or document) per change, as it arrives, after the initial listing."""

from __future__ import annotations

import argparse
import sys

from google.protobuf.message import Message

from podctl.cmd.flags import Subparsers
from podctl.errors import CommandError, server_error_message
from podctl.options import GlobalOptions
from podctl.printers.structured import STRUCTURED_FORMATS, render
from podctl.printers.table import TableOptions, TablePrinter
from podctl.resource.targets import Targets, parse_targets
from podplane.apimachinery import resources
from podplane.apimachinery.meta import object_meta
from podplane.apimachinery.resources import Resource
from podplane.client.clientset import Client, is_not_found
from podplane.printers.events import event_sort_key
from podplane.printers.registry import table_for

OUTPUT_FORMATS = ("wide", *STRUCTURED_FORMATS)


def add_parser(subparsers: Subparsers, parents: list[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser("get", parents=parents, help="display one or many objects")
    p.add_argument("args", nargs="*", metavar="TYPE[.NAME]", help="pods, pod NAME, pod/NAME, ...")
    p.add_argument("-o", "--output", choices=OUTPUT_FORMATS, help="output format")
    p.add_argument("-l", "--selector", default="", help="label selector, e.g. app=web,tier!=db")
    p.add_argument("--field-selector", default="", help="field selector, e.g. spec.nodeName=n1")
    p.add_argument("-w", "--watch", action="store_true", help="after listing, watch for changes")
    p.add_argument(
        "--watch-only", action="store_true", help="watch for changes without listing first"
    )
    p.add_argument("--no-headers", action="store_true", help="print tables without the header row")
    p.add_argument("--show-labels", action="store_true", help="add a LABELS column")
    p.add_argument(
        "--show-managed-fields",
        action="store_true",
        help="keep metadata.managedFields in -o yaml|json (left out otherwise, as kubectl does)",
    )
    p.set_defaults(run=run)


def no_resources_message(resource: Resource, options: GlobalOptions) -> str:
    if resource.namespaced and not options.all_namespaces:
        return f"No resources found in {options.namespace} namespace."
    return "No resources found"


async def fetch(
    client: Client, targets: Targets, args: argparse.Namespace, options: GlobalOptions
) -> tuple[list[Message], list[str], str]:
    """(objects found, error lines for names not found, resourceVersion to watch from)."""
    api = client.for_resource(targets.resource)
    if not targets.names:
        items, version = await api.list_all(
            options.list_namespace(targets.resource),
            label_selector=args.selector,
            field_selector=args.field_selector,
        )
        if targets.resource is resources.EVENT:
            items.sort(key=event_sort_key)
        return items, [], version
    found: list[Message] = []
    errors: list[str] = []
    for name in targets.names:
        try:
            found.append(await api.get(name, options.object_namespace(targets.resource)))
        except Exception as e:
            if not is_not_found(e):
                raise
            errors.append(server_error_message(e, options.server))
    return found, errors, ""


async def watch_and_print(
    client: Client,
    targets: Targets,
    args: argparse.Namespace,
    options: GlobalOptions,
    printer: TablePrinter[Message],
    version: str,
) -> None:
    """Watches from `version` (the listing's resourceVersion, so no change is missed or repeated)
    until the server ends the stream or the user interrupts."""
    resource = targets.resource
    field_selector = args.field_selector
    namespace = options.list_namespace(resource)
    if targets.names:
        # A named object is watched through a collection narrowed to it, as kubectl does.
        field_selector = f"metadata.name={targets.names[0]}"
        namespace = options.object_namespace(resource)
    documents = 0
    stream = client.for_resource(resource).watch(
        namespace,
        resource_version=version,
        label_selector=args.selector,
        field_selector=field_selector,
    )
    async for event in stream:
        if event.type == "BOOKMARK":
            continue
        obj: Message = event.object
        if args.output in STRUCTURED_FORMATS:
            text = render(
                [obj],
                resource,
                args.output,
                single=True,
                show_managed_fields=args.show_managed_fields,
            )
            if args.output == "yaml" and (documents or not args.watch_only):
                text = "---\n" + text
            sys.stdout.write(text)
            sys.stdout.flush()
            documents += 1
        else:
            printer.print_objects([obj])


def _table_options(
    args: argparse.Namespace, resource: Resource, options: GlobalOptions
) -> TableOptions:
    return TableOptions(
        wide=args.output == "wide",
        with_namespace=resource.namespaced and options.all_namespaces,
        no_headers=args.no_headers,
        show_labels=args.show_labels,
    )


async def run(args: argparse.Namespace, options: GlobalOptions) -> int:
    groups = parse_targets(args.args, "get")
    if any(t.names for t in groups) and (args.selector or args.field_selector):
        raise CommandError("error: name cannot be provided when a selector is specified")
    watching = args.watch or args.watch_only
    if watching and (len(groups) > 1 or len(groups[0].names) > 1):
        raise CommandError(
            "error: watch is only supported on individual resources and resource "
            "collections, but more than one resource was found"
        )
    failed = False
    async with options.connect() as client:
        for targets in groups:
            resource = targets.resource
            objects, errors, version = await fetch(client, targets, args, options)
            printer = TablePrinter(
                sys.stdout, table_for(resource), _table_options(args, resource, options)
            )
            if not args.watch_only:
                if args.output in STRUCTURED_FORMATS:
                    if objects or not targets.names:
                        sys.stdout.write(
                            render(
                                objects,
                                resource,
                                args.output,
                                single=len(targets.names) == 1,
                                show_managed_fields=args.show_managed_fields,
                            )
                        )
                elif objects:
                    printer.print_objects(objects)
                elif not errors:
                    print(no_resources_message(resource, options), file=sys.stderr)
            for line in errors:
                print(line, file=sys.stderr)
            failed = failed or bool(errors)
            if targets.names and objects:
                version = object_meta(objects[0]).resource_version
            if watching:
                await watch_and_print(client, targets, args, options, printer, version)
    return 1 if failed else 0
