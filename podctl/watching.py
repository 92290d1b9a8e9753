"""`get --watch`: one row (or document) per change, as it arrives, after the initial listing."""
from __future__ import annotations

import argparse
import sys
from typing import Any

from podctl.options import GlobalOptions
from podctl.printers.structured import STRUCTURED_FORMATS, render
from podctl.printers.table import TablePrinter
from podctl.targets import Targets
from podplane.client.clientset import Client


async def watch_and_print(client: Client, targets: Targets, args: argparse.Namespace,
                          options: GlobalOptions, printer: TablePrinter, version: str) -> None:
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
        namespace, resource_version=version, label_selector=args.selector,
        field_selector=field_selector)
    async for event in stream:
        if event.type == "BOOKMARK":
            continue
        obj: Any = event.object
        if args.output in STRUCTURED_FORMATS:
            text = render([obj], resource, args.output, single=True)
            if args.output == "yaml" and (documents or not args.watch_only):
                text = "---\n" + text
            sys.stdout.write(text)
            sys.stdout.flush()
            documents += 1
        else:
            printer.print_objects([obj])
