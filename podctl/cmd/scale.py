"""`podctl scale --replicas=N`: a new size for ReplicationControllers, ReplicaSets, Deployments and
StatefulSets (kubectl scale), named as TYPE NAME..., TYPE/NAME..., by -f, or by -l / --all.
--current-replicas and --resource-version are preconditions (podctl.workloads.scale)."""

from __future__ import annotations

import argparse

from podctl.cmd.flags import Subparsers, add_file_flags
from podctl.errors import CommandError
from podctl.options import GlobalOptions
from podctl.resource.objects import object_name
from podctl.resource.targets import resolve_targets
from podctl.workloads.scale import SCALABLE, Preconditions, scale

NO_RESOURCES = (
    "error: You must provide one or more resources by argument or filename.\n"
    "Example resource specifications include:\n"
    "   '-f rsrc.yaml'\n"
    "   '--filename=rsrc.json'\n"
    "   '<resource> <name>'\n"
    "   '<resource>'"
)
# What kubectl gets for a kind without a scale subresource.
NOT_SCALABLE = "Error from server (NotFound): the server could not find the requested resource"


def add_parser(subparsers: Subparsers, parents: list[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "scale",
        parents=parents,
        help="set a new size for a replication controller, replica set, deployment or stateful set",
    )
    p.add_argument("args", nargs="*", metavar="TYPE[.NAME]", help="rc NAME..., rs/NAME, ...")
    add_file_flags(p, "scale")
    p.add_argument("--replicas", type=int, default=None, help="the new desired number of replicas")
    p.add_argument(
        "--current-replicas",
        type=int,
        default=-1,
        help="precondition: the current size must be this (-1: no precondition)",
    )
    p.add_argument(
        "--resource-version",
        default="",
        help="precondition: the object's resourceVersion must be this",
    )
    p.add_argument("-l", "--selector", default="", help="scale the objects this selector matches")
    p.add_argument("--all", action="store_true", help="scale every object of the type")
    p.set_defaults(run=run)


def validate(args: argparse.Namespace) -> None:
    if args.replicas is None:
        raise CommandError('error: required flag(s) "replicas" not set')
    if args.replicas < 0:
        raise CommandError(
            "error: The --replicas=COUNT flag is required, and COUNT must be "
            "greater than or equal to 0"
        )
    if args.current_replicas < -1:
        raise CommandError("error: The --current-replicas must specify an integer of -1 or greater")
    if not args.args and not args.filename:
        raise CommandError(NO_RESOURCES)


async def run(args: argparse.Namespace, options: GlobalOptions) -> int:
    validate(args)
    preconditions = Preconditions(args.current_replicas, args.resource_version)
    async with options.connect() as client:
        targets = await resolve_targets(client, args, options, "scale")
        if not targets:
            raise CommandError("error: no objects passed to scale")
        if args.resource_version and len(targets) > 1:
            raise CommandError("error: cannot use --resource-version with multiple resources")
        for resource, name, namespace in targets:
            api = client.for_resource(resource)
            if resource not in SCALABLE:
                await api.get(name, namespace)  # a missing object is reported as such first
                raise CommandError(NOT_SCALABLE)
            await scale(api, name, namespace, args.replicas, preconditions)
            print(f"{object_name(resource, name)} scaled")
    return 0
