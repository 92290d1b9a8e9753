"""`podctl apply -f` and `podctl create -f` (and `create namespace NAME`)."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field

from google.protobuf.message import Message

from podctl.cmd.flags import Subparsers, add_file_flags
from podctl.errors import CommandError, server_error_message
from podctl.options import GlobalOptions
from podctl.resource.apply_plan import LAST_APPLIED_ANNOTATION, ApplyPlan, plan_apply
from podctl.resource.manifests import ManifestObject, load
from podctl.resource.objects import from_plain_dict, object_name, to_plain_dict
from podplane.apimachinery import resources
from podplane.apimachinery.meta import object_meta
from podplane.client.clientset import Client, is_conflict, is_not_found

CONFLICT_RETRIES = 5


def add_parsers(subparsers: Subparsers, parents: list[argparse.ArgumentParser]) -> None:
    apply = subparsers.add_parser(
        "apply", parents=parents, help="create or update objects from files"
    )
    add_file_flags(apply, "apply")
    apply.set_defaults(run=run_apply)

    create = subparsers.add_parser("create", parents=parents, help="create objects from files")
    add_file_flags(create, "create")
    create.add_argument("kind", nargs="?", help="namespace, to create a namespace by name")
    create.add_argument("name", nargs="?")
    create.set_defaults(run=run_create)


def _report(obj: ManifestObject, err: BaseException, options: GlobalOptions, verb: str) -> None:
    print(_error_text(obj, err, options, verb), file=sys.stderr)


def _error_text(obj: ManifestObject, err: BaseException, options: GlobalOptions, verb: str) -> str:
    note = f'error when {verb} "{obj.source}": '
    return server_error_message(err, options.server, source_note=note)


class ApplyError(Exception):
    """A server error and what apply was doing when it happened ("creating", "applying")."""

    def __init__(self, doing: str, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.doing = doing
        self.cause = cause


async def _apply_one(client: Client, obj: ManifestObject) -> str:
    api = client.for_resource(obj.resource)
    for _ in range(CONFLICT_RETRIES):
        try:
            live: Message | None = await api.get(obj.name, obj.namespace)
        except Exception as e:
            if not is_not_found(e):
                raise ApplyError("retrieving current configuration of", e) from e
            live = None
        plan: ApplyPlan = plan_apply(obj.data, to_plain_dict(live) if live is not None else None)
        if plan.action == "unchanged":
            return plan.action
        body = from_plain_dict(plan.body, obj.resource.message)
        if plan.action == "created":
            try:
                await api.create(body)
            except Exception as e:
                raise ApplyError("creating", e) from e
            return plan.action
        if plan.missing_last_applied:
            print(
                f"Warning: resource {obj.resource.plural}/{obj.name} is missing the "
                f"{LAST_APPLIED_ANNOTATION} annotation which is required by podctl apply. "
                "The missing annotation will be patched automatically.",
                file=sys.stderr,
            )
        try:
            await api.update(body)
            return plan.action
        except Exception as e:
            if not is_conflict(e):
                raise ApplyError("applying", e) from e
    raise CommandError(
        f'error: {obj.resource.plural} "{obj.name}" kept changing while being applied'
    )


async def run_apply(args: argparse.Namespace, options: GlobalOptions) -> int:
    objects = load(args.filename, options, verb="apply", recursive=args.recursive)
    for obj in objects:
        if not obj.name:
            raise CommandError(
                f'error: error validating "{obj.source}": metadata.name: Required value: '
                "apply needs the object's name"
            )
    async with options.connect() as client:
        outcome = await apply_objects(client, objects, options)
    for line in outcome.lines:
        print(line)
    for error in outcome.errors:
        print(error, file=sys.stderr)
    return 1 if outcome.errors else 0


@dataclass
class ApplyOutcome:
    """What one pass over the objects printed: `pod/NAME created` (configured, unchanged) for
    each object applied, and the error text of each that failed."""

    lines: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


async def apply_objects(
    client: Client, objects: list[ManifestObject], options: GlobalOptions
) -> ApplyOutcome:
    """Applies each object in turn; one that fails does not stop the others."""
    outcome = ApplyOutcome()
    for obj in objects:
        try:
            action = await _apply_one(client, obj)
        except ApplyError as e:
            outcome.errors.append(_error_text(obj, e.cause, options, e.doing))
            continue
        outcome.lines.append(f"{object_name(obj.resource, obj.name)} {action}")
    return outcome


async def _create_namespace(name: str, options: GlobalOptions) -> int:
    namespace = resources.NAMESPACE.message()
    namespace.metadata.name = name
    async with options.connect() as client:
        await client.namespaces.create(namespace)
    print(f"{object_name(resources.NAMESPACE, name)} created")
    return 0


async def run_create(args: argparse.Namespace, options: GlobalOptions) -> int:
    if args.kind is not None:
        if args.filename or args.kind.lower() not in ("namespace", "ns") or not args.name:
            raise CommandError(
                "error: only `create namespace NAME` and `create -f FILE` are supported"
            )
        return await _create_namespace(args.name, options)
    objects = load(args.filename, options, verb="create", recursive=args.recursive)
    failed = False
    async with options.connect() as client:
        for obj in objects:
            try:
                created: Message = await client.for_resource(obj.resource).create(obj.message)
            except Exception as e:  # noqa: BLE001 - reported; the other objects still go
                _report(obj, e, options, "creating")
                failed = True
                continue
            name = object_meta(created).name or obj.name
            print(f"{object_name(obj.resource, name)} created")
    return 1 if failed else 0
