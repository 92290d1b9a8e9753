"""`podctl rollout status|undo|history`: kubectl's rollout verbs for deployments
(kubectl pkg/cmd/rollout, polymorphichelpers rollout_status.go, rollback.go, history.go). A
rollback happens client side, as kubectl does it now: the deployment gets the pod template (and
the annotations) of the ReplicaSet of the revision asked for, and its controller rolls that out
as a new revision."""
from __future__ import annotations

import argparse
import asyncio
import io
import sys
from typing import Any

import grpc

from podctl.cmd.delete import parse_duration
from podctl.describe.pod_template import write_pod_template
from podctl.describe.workloads import POD_TEMPLATE_HASH_LABEL, controller_of, label_query
from podctl.describe.writer import PrefixWriter
from podctl.errors import CommandError
from podctl.objects import object_name
from podctl.options import GlobalOptions
from podctl.tabwriter import describe_writer
from podctl.targets import parse_targets
from podplane.apimachinery import resources
from podplane.api.apps.v1 import apps_pb2
from podplane.api.core.v1 import core_pb2
from podplane.client.clientset import Client, status_code

REVISION_ANNOTATION = "deployment.kubernetes.io/revision"
CHANGE_CAUSE_ANNOTATION = "kubernetes.io/change-cause"
TIMED_OUT_REASON = "ProgressDeadlineExceeded"
# The deployment's own annotations, kept through a rollback rather than taken from the revision.
ANNOTATIONS_TO_SKIP = frozenset({
    "kubectl.kubernetes.io/last-applied-configuration", REVISION_ANNOTATION,
    "deployment.kubernetes.io/revision-history", "deployment.kubernetes.io/desired-replicas",
    "deployment.kubernetes.io/max-replicas", "deprecated.deployment.rollback.to"})


def _flag_bool(text: str) -> bool:
    if text.lower() in ("true", "1", "t"):
        return True
    if text.lower() in ("false", "0", "f"):
        return False
    raise argparse.ArgumentTypeError(f"invalid boolean value {text!r}")


def add_parser(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser("rollout", parents=parents, help="manage the rollout of a deployment")
    verbs = p.add_subparsers(dest="rollout_verb", metavar="SUBCOMMAND", required=True)
    target = {"nargs": "+", "metavar": "TYPE/NAME | TYPE NAME"}

    status = verbs.add_parser("status", parents=parents, help="show the status of the rollout")
    status.add_argument("target", **target)
    status.add_argument("-w", "--watch", type=_flag_bool, nargs="?", const=True, default=True,
                        help="watch until the rollout finishes (default true)")
    status.add_argument("--timeout", default="0s",
                        help="how long to wait before giving up (e.g. 5m; 0: forever)")
    status.add_argument("--revision", type=int, default=0,
                        help="the revision to follow; an error if another one is rolling out")
    status.set_defaults(run=run_status)

    undo = verbs.add_parser("undo", parents=parents, help="roll back to a previous revision")
    undo.add_argument("target", **target)
    undo.add_argument("--to-revision", type=int, default=0,
                      help="the revision to roll back to (default 0: the previous one)")
    undo.set_defaults(run=run_undo)

    history = verbs.add_parser("history", parents=parents, help="list the rollout's revisions")
    history.add_argument("target", **target)
    history.add_argument("--revision", type=int, default=0,
                         help="show the pod template of this revision")
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
        what = {"status": "status viewer", "undo": "rollbacker",
                "history": "history viewer"}[verb]
        raise CommandError(f'error: no {what} has been implemented for "{kind}"')
    return names[0]


def revision_of(obj: Any) -> int | None:
    try:
        return int(obj.metadata.annotations[REVISION_ANNOTATION])
    except (KeyError, ValueError):
        return None


# ---------------------------------------------------------------- status

def rollout_status(d: Any, revision: int = 0) -> tuple[str, bool]:
    """kubectl's DeploymentStatusViewer: the line to print and whether the rollout is done."""
    name = d.metadata.name
    if revision > 0:
        current = revision_of(d)
        if current is None:
            raise CommandError(f'error: cannot get the revision of deployment "{name}"')
        if current != revision:
            raise CommandError(f"error: desired revision ({revision}) is different from the "
                               f"running revision ({current})")
    status = d.status
    if d.metadata.generation > status.observed_generation:
        return "Waiting for deployment spec update to be observed...", False
    for c in status.conditions:
        if c.type == "Progressing" and c.reason == TIMED_OUT_REASON:
            raise CommandError(f'error: deployment "{name}" exceeded its progress deadline')
    waiting = f'Waiting for deployment "{name}" rollout to finish: '
    if d.spec.HasField("replicas") and status.updated_replicas < d.spec.replicas:
        return (f"{waiting}{status.updated_replicas} out of {d.spec.replicas} new replicas have "
                "been updated..."), False
    if status.replicas > status.updated_replicas:
        return (f"{waiting}{status.replicas - status.updated_replicas} old replicas are pending "
                "termination..."), False
    if status.available_replicas < status.updated_replicas:
        return (f"{waiting}{status.available_replicas} of {status.updated_replicas} updated "
                "replicas are available..."), False
    return f'deployment "{name}" successfully rolled out', True


class _StatusPrinter:
    """Prints each status line once (kubectl prints one per watch event, repeats included)."""

    def __init__(self, revision: int) -> None:
        self.revision = revision
        self.last = ""

    def show(self, d: Any) -> bool:
        line, done = rollout_status(d, self.revision)
        if line != self.last:
            print(line, flush=True)
            self.last = line
        return done


async def follow_rollout(client: Client, namespace: str, name: str, printer: _StatusPrinter,
                         d: Any) -> None:
    """Watches the deployment until its rollout is done, resuming a watch that ends."""
    version = d.metadata.resource_version
    while True:
        try:
            async for event in client.deployments.watch(
                    namespace, resource_version=version, field_selector=f"metadata.name={name}"):
                if event.type == "BOOKMARK":
                    version = event.object.metadata.resource_version
                    continue
                if event.type == "DELETED":
                    raise CommandError("error: object has been deleted")
                version = event.object.metadata.resource_version
                if printer.show(event.object):
                    return
        except grpc.aio.AioRpcError as e:
            if status_code(e) != grpc.StatusCode.OUT_OF_RANGE:
                raise
            d = await client.deployments.get(name, namespace)
            version = d.metadata.resource_version
            if printer.show(d):
                return


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
            await asyncio.wait_for(follow_rollout(client, namespace, name, printer, d),
                                   timeout if timeout > 0 else None)
        except asyncio.TimeoutError:
            raise CommandError("error: timed out waiting for the condition") from None
    return 0


# ---------------------------------------------------------------- history and undo

async def owned_replica_sets(client: Client, d: Any) -> list[Any]:
    """The deployment's replica sets: those its selector matches that it controls."""
    items, _ = await client.replicasets.list_all(d.metadata.namespace,
                                                 label_selector=label_query(d))
    return [rs for rs in items
            if (ref := controller_of(rs)) is not None and ref.uid == d.metadata.uid]


def replica_set_for_revision(d: Any, rss: list[Any], to_revision: int) -> Any:
    """The replica set of `to_revision`, or of the one before the latest when 0."""
    if to_revision < 0:
        raise CommandError(f"error: unable to find specified revision {to_revision} in history")
    if to_revision > 0:
        for rs in rss:
            if revision_of(rs) == to_revision:
                return rs
        raise CommandError(f"error: unable to find specified revision {to_revision} in history")
    ranked = sorted((r, rs) for rs in rss if (r := revision_of(rs)) is not None)
    if len(ranked) < 2:
        raise CommandError(f'error: no rollout history found for deployment "{d.metadata.name}"')
    return ranked[-2][1]


def _without_hash(template: Any) -> core_pb2.PodTemplateSpec:
    copy = core_pb2.PodTemplateSpec()
    copy.CopyFrom(template)
    copy.metadata.labels.pop(POD_TEMPLATE_HASH_LABEL, None)
    return copy


def rolled_back(d: Any, rs: Any) -> apps_pb2.Deployment | None:
    """The deployment with the replica set's template and annotations; None if it already has
    that template."""
    template = _without_hash(rs.spec.template)
    if template == _without_hash(d.spec.template):
        return None
    out = apps_pb2.Deployment()
    out.CopyFrom(d)
    out.spec.template.CopyFrom(template)
    annotations = {k: v for k, v in d.metadata.annotations.items() if k in ANNOTATIONS_TO_SKIP}
    annotations.update({k: v for k, v in rs.metadata.annotations.items()
                        if k not in ANNOTATIONS_TO_SKIP})
    out.metadata.annotations.clear()
    out.metadata.annotations.update(annotations)
    return out


async def run_undo(args: argparse.Namespace, options: GlobalOptions) -> int:
    name = deployment_name(args.target, "undo")
    async with options.connect() as client:
        d = await client.deployments.get(name, options.namespace)
        rs = replica_set_for_revision(d, await owned_replica_sets(client, d), args.to_revision)
        if d.spec.paused:
            raise CommandError("error: you cannot rollback a paused deployment; resume it first "
                               f"with 'kubectl rollout resume deployment/{name}' and try again")
        updated = rolled_back(d, rs)
        shown = object_name(resources.DEPLOYMENT, name)
        if updated is None:
            print(f"{shown} skipped rollback (current template already matches revision "
                  f"{args.to_revision})")
            return 0
        await client.deployments.update(updated)
    print(f"{shown} rolled back")
    return 0


def history_table(rss: list[Any]) -> str:
    """REVISION and CHANGE-CAUSE of each revision, oldest first."""
    causes: dict[int, str] = {}
    for rs in rss:
        if (r := revision_of(rs)) is not None:
            causes[r] = rs.metadata.annotations.get(CHANGE_CAUSE_ANNOTATION, "")
    if not causes:
        return "No rollout history found."
    out = io.StringIO()
    w = describe_writer(out)
    w.write("REVISION\tCHANGE-CAUSE\n")
    for r in sorted(causes):
        w.write(f"{r}\t{causes[r] or '<none>'}\n")
    w.flush()
    return out.getvalue()


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
