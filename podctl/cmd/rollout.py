"""`podctl rollout status|undo|history`: kubectl's rollout verbs for deployments, daemon sets and
stateful sets (kubectl pkg/cmd/rollout), over podctl.workloads.rollout (deployments: their
replica sets), podctl.workloads.controller_revisions (daemon sets' and stateful sets'
ControllerRevisions) and each kind's status viewer."""

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
from podctl.workloads import controller_revisions as histories
from podctl.workloads import daemonset_rollout as daemons
from podctl.workloads import statefulset_rollout as stateful
from podctl.workloads.rollout import (
    CHANGE_CAUSE_ANNOTATION,
    follow_rollout,
    history_table,
    owned_replica_sets,
    replica_set_for_revision,
    revision_of,
    revisions_table,
    rolled_back,
    rollout_status,
)
from podplane.api.apps.v1 import apps_pb2
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import resources
from podplane.apimachinery.resources import Resource
from podplane.client.clientset import Client, ResourceClient


def _flag_bool(text: str) -> bool:
    if text.lower() in ("true", "1", "t"):
        return True
    if text.lower() in ("false", "0", "f"):
        return False
    raise argparse.ArgumentTypeError(f"invalid boolean value {text!r}")


def add_parser(subparsers: Subparsers, parents: list[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "rollout",
        parents=parents,
        help="manage the rollout of a deployment, daemon set or stateful set",
    )
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


ROLLED_OUT = (resources.DEPLOYMENT, resources.DAEMON_SET, resources.STATEFUL_SET)


def rollout_target(args: list[str], verb: str) -> tuple[Resource, str]:
    """The deployment, daemon set or stateful set named as TYPE/NAME or TYPE NAME; other kinds
    are refused with kubectl's words."""
    if not args:
        raise CommandError("error: required resource not specified")
    targets = parse_targets(args, "rollout")
    names = [n for t in targets for n in t.names]
    if len(names) != 1:
        raise CommandError("error: rollout works on one resource at a time: give TYPE/NAME")
    resource = targets[0].resource
    if resource not in ROLLED_OUT:
        group = resource.api_version.rpartition("/")[0]
        kind = f"{resource.kind}.{group}" if group else resource.kind
        what = {"status": "status viewer", "undo": "rollbacker", "history": "history viewer"}[verb]
        raise CommandError(f'error: no {what} has been implemented for "{kind}"')
    return resource, names[0]


# ---------------------------------------------------------------- status


class _StatusPrinter:
    """Prints each status line once (kubectl prints one per watch event, repeats included)."""

    def __init__(self, revision: int) -> None:
        self.revision = revision
        self.last = ""

    def _print(self, line: str, done: bool) -> bool:
        if line != self.last:
            print(line, flush=True)
            self.last = line
        return done

    def show(self, d: apps_pb2.Deployment) -> bool:
        return self._print(*rollout_status(d, self.revision))

    def show_daemon_set(self, ds: apps_pb2.DaemonSet) -> bool:
        # kubectl ignores --revision for daemon sets and stateful sets.
        return self._print(*daemons.rollout_status(ds))

    def show_stateful_set(self, sts: apps_pb2.StatefulSet) -> bool:
        return self._print(*stateful.rollout_status(sts))


async def run_status(args: argparse.Namespace, options: GlobalOptions) -> int:
    resource, name = rollout_target(args.target, "status")
    timeout = parse_duration(args.timeout)
    namespace = options.namespace
    printer = _StatusPrinter(args.revision)
    async with options.connect() as client:
        if resource is resources.DAEMON_SET:
            ds = await client.daemonsets.get(name, namespace)
            if printer.show_daemon_set(ds) or not args.watch:
                return 0
            following = follow_rollout(
                client.daemonsets, namespace, name, printer.show_daemon_set, ds
            )
        elif resource is resources.STATEFUL_SET:
            sts = await client.statefulsets.get(name, namespace)
            if printer.show_stateful_set(sts) or not args.watch:
                return 0
            following = follow_rollout(
                client.statefulsets, namespace, name, printer.show_stateful_set, sts
            )
        else:
            d = await client.deployments.get(name, namespace)
            if printer.show(d) or not args.watch:
                return 0
            following = follow_rollout(client.deployments, namespace, name, printer.show, d)
        try:
            async with asyncio.timeout(timeout if timeout > 0 else None):
                await following
        except TimeoutError:
            raise CommandError("error: timed out waiting for the condition") from None
    return 0


# ---------------------------------------------------------------- history and undo


async def run_undo(args: argparse.Namespace, options: GlobalOptions) -> int:
    resource, name = rollout_target(args.target, "undo")
    shown = object_name(resource, name)
    async with options.connect() as client:
        if resource is resources.DAEMON_SET:
            ds = await client.daemonsets.get(name, options.namespace)
            done = await _undo_revisioned(client, client.daemonsets, ds, args.to_revision)
        elif resource is resources.STATEFUL_SET:
            sts = await client.statefulsets.get(name, options.namespace)
            done = await _undo_revisioned(client, client.statefulsets, sts, args.to_revision)
        else:
            done = await _undo_deployment(client, name, options.namespace, args.to_revision)
    print(
        f"{shown} rolled back"
        if done
        else f"{shown} skipped rollback (current template "
        f"already matches revision {args.to_revision})"
    )
    return 0


async def _undo_deployment(client: Client, name: str, namespace: str, to_revision: int) -> bool:
    d = await client.deployments.get(name, namespace)
    rs = replica_set_for_revision(d, await owned_replica_sets(client, d), to_revision)
    if d.spec.paused:
        raise CommandError(
            "error: you cannot rollback a paused deployment; resume it first "
            f"with 'kubectl rollout resume deployment/{name}' and try again"
        )
    updated = rolled_back(d, rs)
    if updated is None:
        return False
    await client.deployments.update(updated)
    return True


async def _undo_revisioned(
    client: Client, api: ResourceClient[histories.H], owner: histories.H, to_revision: int
) -> bool:
    """The DaemonSetRollbacker and StatefulSetRollbacker: the revision's template written back
    (kubectl sends the revision's data as a strategic merge patch; this is its result)."""
    revision = histories.revision_to_roll_back_to(
        await histories.owned_revisions(client, owner), to_revision
    )
    updated = histories.rolled_back(owner, revision)
    if updated is None:
        return False
    await api.update(updated)
    return True


def _template_text(title: str, template: core_pb2.PodTemplateSpec) -> str:
    w = PrefixWriter()
    write_pod_template(w, template)
    return f"{title}\n{w.text()}\n"


async def run_history(args: argparse.Namespace, options: GlobalOptions) -> int:
    resource, name = rollout_target(args.target, "history")
    shown = object_name(resource, name)
    async with options.connect() as client:
        if resource is resources.DAEMON_SET:
            ds = await client.daemonsets.get(name, options.namespace)
            revisions = await histories.owned_revisions(client, ds)
            text = _revisions_history(shown, ds, revisions, args.revision)
        elif resource is resources.STATEFUL_SET:
            sts = await client.statefulsets.get(name, options.namespace)
            revisions = await histories.owned_revisions(client, sts)
            text = _revisions_history(shown, sts, revisions, args.revision)
        else:
            d = await client.deployments.get(name, options.namespace)
            text = _deployment_history(shown, await owned_replica_sets(client, d), args.revision)
    sys.stdout.write(text)
    return 0


def _deployment_history(shown: str, rss: list[apps_pb2.ReplicaSet], revision: int) -> str:
    if revision > 0:
        rs = next((rs for rs in rss if revision_of(rs) == revision), None)
        if rs is None:
            raise CommandError("error: unable to find the specified revision")
        template = core_pb2.PodTemplateSpec()
        template.CopyFrom(rs.spec.template)
        if cause := rs.metadata.annotations.get(CHANGE_CAUSE_ANNOTATION):
            template.metadata.annotations[CHANGE_CAUSE_ANNOTATION] = cause
        return _template_text(f"{shown} with revision #{revision}", template)
    return f"{shown} \n{history_table(rss)}\n"


def _revisions_history(
    shown: str,
    owner: histories.H,
    revisions: list[apps_pb2.ControllerRevision],
    revision: int,
) -> str:
    """DaemonSetHistoryViewer and StatefulSetHistoryViewer: the revisions' change causes, or one
    revision's pod template."""
    by_number = {r.revision: r for r in revisions}
    if revision > 0:
        if revision not in by_number:
            raise CommandError("error: unable to find the specified revision")
        template = histories.revision_template(owner, by_number[revision])
        return _template_text(f"{shown} with revision #{revision}", template)
    causes = {
        n: r.metadata.annotations.get(CHANGE_CAUSE_ANNOTATION, "") for n, r in by_number.items()
    }
    return f"{shown} \n{revisions_table(causes)}\n"
