"""The objects a verb names on its command line: `pods`, `pod jumpod other`,
`pod/jumpod node/n1`."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from podctl.errors import CommandError
from podctl.options import GlobalOptions
from podctl.resource.manifests import load
from podplane.apimachinery import resources
from podplane.apimachinery.resources import Resource
from podplane.client.clientset import Client


@dataclass(frozen=True)
class Targets:
    resource: Resource
    # Empty: every object of the resource (filtered by selectors).
    names: tuple[str, ...] = ()


def resource_named(name: str) -> Resource:
    try:
        return resources.by_name(name)
    except KeyError as e:
        raise CommandError(f"error: {e.args[0]}") from None


def parse_targets(args: list[str], verb: str) -> list[Targets]:
    """`TYPE [NAME...]` or `TYPE/NAME...`, grouped by resource in the order given."""
    if not args:
        raise CommandError(
            f'error: you must specify the type of resource to {verb}. Use "podctl api-resources" '
            "for a complete list of supported resources"
            if verb == "get"
            else f"error: you must specify the type of resource to {verb}"
        )
    if "/" not in args[0]:
        if any("/" in a for a in args[1:]):
            raise CommandError(
                "error: there is no need to specify a resource type as a separate "
                "argument when passing arguments in resource/name form "
                f"(e.g. 'podctl {verb} resource/<resource_name>' instead of "
                f"'podctl {verb} resource resource/<resource_name>')"
            )
        if "," in args[0]:
            raise CommandError("error: listing several resource types at once is not supported")
        return [Targets(resource_named(args[0]), tuple(args[1:]))]
    grouped: dict[str, list[str]] = {}
    order: list[Resource] = []
    for arg in args:
        kind, sep, name = arg.partition("/")
        if not sep or not name or not kind:
            raise CommandError(
                f"error: arguments in resource/name form must have a single resource "
                f"and name: {arg!r}"
            )
        resource = resource_named(kind)
        if resource.plural not in grouped:
            grouped[resource.plural] = []
            order.append(resource)
        grouped[resource.plural].append(name)
    return [Targets(r, tuple(grouped[r.plural])) for r in order]


async def resolve_targets(
    client: Client, args: argparse.Namespace, options: GlobalOptions, verb: str
) -> list[tuple[Resource, str, str]]:
    """(resource, name, namespace) of every object a verb acts on: from -f manifests, names, or
    a selector (-l) / --all over a type."""
    if args.filename:
        if args.args:
            raise CommandError("error: resources specified with -f cannot be combined with names")
        objects = load(args.filename, options, verb=verb, recursive=args.recursive)
        return [(o.resource, o.name, o.namespace) for o in objects]
    out: list[tuple[Resource, str, str]] = []
    for t in parse_targets(args.args, verb):
        if t.names:
            if args.selector or args.all:
                raise CommandError("error: name cannot be provided when a selector is specified")
            out += [(t.resource, n, options.object_namespace(t.resource)) for n in t.names]
            continue
        if not args.selector and not args.all:
            raise CommandError("error: resource(s) were provided, but no name was specified")
        items, _ = await client.for_resource(t.resource).list_all(
            options.list_namespace(t.resource), label_selector=args.selector
        )
        out += [(t.resource, o.metadata.name, o.metadata.namespace) for o in items]
    return out
