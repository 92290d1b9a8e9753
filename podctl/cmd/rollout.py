"""`podctl rollout status|undo|history`: kubectl's rollout verbs for deployments
(kubectl pkg/cmd/rollout), over podctl.workloads.rollout."""

from __future__ import annotations

import argparse
import asyncio
import sys

from podctl.cmd.flags import Subparsers, parse_duration
from podctl.describe.pod_template import write_pod_template
from podctl.describe.writer import PrefixWriter
from podctl.errors import CommandError
from podctl.options import GlobalOptions
from podctl.resource.objects import object_name
from podctl.resource.targets import parse_targets
from podctl.workloads.rollout import (
    CHANGE_CAUSE_ANNOTATION,
    follow_rollout,
    history_table,
    owned_replica_sets,
    replica_set_for_revision,
    revision_of,
    rolled_back,
    rollout_status,
)
from podplane.api.apps.v1 import apps_pb2
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import resources


def _flag_bool(text: str) -> bool:
    if text.lower() in ("true", "1", "t"):
        return True
    if text.lower() in ("false", "0", "f"):
        return False
    raise argparse.ArgumentTypeError(f"invalid boolean value {text!r}")


def add_parser(subparsers: Subparsers, parents: list[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser("rollout", parents=parents, help="manage the rollout of a deployment")
    verbs = p.add_subparsers(dest="rollout_verb", metavar="SUBCOMMAND", required=True)
    target = "TYPE/NAME | TYPE NAME"

    status = verbs.add_parser("status", parents=parents, help="show the status of the rollout")
    status.add_argument("target", nargs="+", metavar=target)
    status.add_argument(
        "-w",
        "--watch",
        type=_flag_bool,
        nargs="?",
        const=True,
        default=True,
        help="watch until the rollout finishes (default true)",
    )
    status.add_argument(
        "--timeout", default="0s", help="how long to wait before giving up (e.g. 5m; 0: forever)"
    )
    status.add_argument(
        "--revision",
        type=int,
        default=0,
        help="the revision to follow; an error if another one is rolling out",
    )
    status.set_defaults(run=run_status)

    undo = verbs.add_parser("undo", parents=parents, help="roll back to a previous revision")
    undo.add_argument("target", nargs="+", metavar=target)
    undo.add_argument(
        "--to-revision",
        type=int,
        default=0,
        help="the revision to roll back to (default 0: the previous one)",
    )
    undo.set_defaults(run=run_undo)

    history = verbs.add_parser("history", parents=parents, help="list the rollout's revisions")
    history.add_argument("target", nargs="+", metavar=target)
    history.add_argument(
        "--revision", type=int, default=0, help="show the pod template of this revision"
    )
    history.set_defaults(run=run_history)


def deployment_name(args: list[str], verb: str) -> str:
    """The deployment named as deployment/NAME or deployment NAME; other kinds are refused with
    kubectl's words."""
    if not args:
        raise CommandError("error: required resource not specified")
    targets = parse_targets(args, "rollout")
    names = [n for t in targets for n in t.names]
    if len(names) != 1:
        raise CommandError("error: rollout works on one resource at a time: give TYPE/NAME")
    resource = targets[0].resource
    if resource is not resources.DEPLOYMENT:
        group = resource.api_version.rpartition("/")[0]
        kind = f"{resource.kind}.{group}" if group else resource.kind
        what = {"status": "status viewer", "undo": "rollbacker", "history": "history viewer"}[verb]
        raise CommandError(f'error: no {what} has been implemented for "{kind}"')
    return names[0]


# ---------------------------------------------------------------- status


class _StatusPrinter:
    """Prints each status line once (kubectl prints one per watch event, repeats included)."""

    def __init__(self, revision: int) -> None:
        self.revision = revision
        self.last = ""

    def show(self, d: apps_pb2.Deployment) -> bool:
        line, done = rollout_status(d, self.revision)
        if line != self.last:
            print(line, flush=True)
            self.last = line
        return done


async def run_status(args: argparse.Namespace, options: GlobalOptions) -> int:
    name = deployment_name(args.target, "status")
    timeout = parse_duration(args.timeout)
    namespace = options.namespace
    printer = _StatusPrinter(args.revision)
    async with options.connect() as client:
        d = await client.deployments.get(name, namespace)
        if printer.show(d) or not args.watch:
            return 0
        try:
            await asyncio.wait_for(
                follow_rollout(client, namespace, name, printer.show, d),
                timeout if timeout > 0 else None,
            )
        except TimeoutError:
            raise CommandError("error: timed out waiting for the condition") from None
    return 0


# ---------------------------------------------------------------- history and undo


async def run_undo(args: argparse.Namespace, options: GlobalOptions) -> int:
    name = deployment_name(args.target, "undo")
    async with options.connect() as client:
        d = await client.deployments.get(name, options.namespace)
        rs = replica_set_for_revision(d, await owned_replica_sets(client, d), args.to_revision)
        if d.spec.paused:
            raise CommandError(
                "error: you cannot rollback a paused deployment; resume it first "
                f"with 'kubectl rollout resume deployment/{name}' and try again"
            )
        updated = rolled_back(d, rs)
        shown = object_name(resources.DEPLOYMENT, name)
        if updated is None:
            print(
                f"{shown} skipped rollback (current template already matches revision "
                f"{args.to_revision})"
            )
            return 0
        await client.deployments.update(updated)
    print(f"{shown} rolled back")
    return 0


async def run_history(args: argparse.Namespace, options: GlobalOptions) -> int:
    name = deployment_name(args.target, "history")
    async with options.connect() as client:
        d = await client.deployments.get(name, options.namespace)
        rss = await owned_replica_sets(client, d)
    shown = object_name(resources.DEPLOYMENT, name)
    if args.revision > 0:
        rs = next((rs for rs in rss if revision_of(rs) == args.revision), None)
        if rs is None:
            raise CommandError("error: unable to find the specified revision")
        template = core_pb2.PodTemplateSpec()
        template.CopyFrom(rs.spec.template)
        if cause := rs.metadata.annotations.get(CHANGE_CAUSE_ANNOTATION):
            template.metadata.annotations[CHANGE_CAUSE_ANNOTATION] = cause
        w = PrefixWriter()
        write_pod_template(w, template)
        sys.stdout.write(f"{shown} with revision #{args.revision}\n{w.text()}\n")
        return 0
    sys.stdout.write(f"{shown} \n{history_table(rss)}\n")
    return 0
