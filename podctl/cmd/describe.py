"""`podctl describe`: kubectl's detailed, human-oriented view of pods, nodes and namespaces."""
from __future__ import annotations

import argparse
import sys
from typing import Any

import grpc

from podctl.describe.common import utc_now
from podctl.describe.namespace import describe_namespace
from podctl.describe.node import NODE_LEASE_NAMESPACE, describe_node
from podctl.describe.pod import describe_pod
from podctl.describe.secret import describe_secret
from podctl.describe.workloads import (describe_deployment, describe_job, describe_replica_set,
                                       describe_replication_controller, label_query)
from podctl.errors import CommandError, server_error_message
from podctl.options import GlobalOptions
from podctl.targets import Targets, parse_targets
from podplane.apimachinery import resources
from podplane.client.clientset import Client, is_not_found

DESCRIBABLE = (resources.POD, resources.NODE, resources.NAMESPACE, resources.REPLICATION_CONTROLLER,
               resources.REPLICA_SET, resources.DEPLOYMENT, resources.JOB, resources.SECRET)


def add_parser(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser("describe", parents=parents, help="show details of objects")
    p.add_argument("args", nargs="+", metavar="TYPE[.NAME_PREFIX]",
                   help="pod NAME, pods, node NAME, nodes, pod/NAME, ...")
    p.add_argument("-l", "--selector", default="", help="label selector")
    p.add_argument("--show-events", default="true", choices=("true", "false"),
                   help="include the events about the object (default true)")
    p.set_defaults(run=run)


async def _pod_events(client: Client, pod: Any) -> list[Any]:
    # As kubectl: name, namespace, kind and uid, so a deleted pod's namesake's events stay out.
    selector = (f"involvedObject.name={pod.metadata.name},"
                f"involvedObject.namespace={pod.metadata.namespace},"
                f"involvedObject.kind=Pod,involvedObject.uid={pod.metadata.uid}")
    events, _ = await client.events.list_all(pod.metadata.namespace, field_selector=selector)
    return list(events)


async def _node_events(client: Client, node: Any) -> list[Any]:
    selector = (f"involvedObject.kind=Node,involvedObject.name={node.metadata.name},"
                f"involvedObject.uid={node.metadata.uid}")
    events, _ = await client.events.list_all("", field_selector=selector)
    return list(events)


async def _object_events(client: Client, obj: Any, kind: str) -> list[Any]:
    selector = (f"involvedObject.name={obj.metadata.name},"
                f"involvedObject.namespace={obj.metadata.namespace},"
                f"involvedObject.kind={kind},involvedObject.uid={obj.metadata.uid}")
    events, _ = await client.events.list_all(obj.metadata.namespace, field_selector=selector)
    return list(events)


async def _describe_workload(client: Client, obj: Any, resource: Any, show_events: bool,
                             now: Any) -> str:
    events = await _object_events(client, obj, resource.kind) if show_events else None
    namespace = obj.metadata.namespace
    if resource is resources.JOB:
        return describe_job(obj, events, now)
    if resource is resources.DEPLOYMENT:
        replica_sets, _ = await client.replicasets.list_all(namespace, label_selector=label_query(obj))
        return describe_deployment(obj, replica_sets, events, now)
    pods, _ = await client.pods.list_all(namespace, label_selector=label_query(obj))
    if resource is resources.REPLICA_SET:
        return describe_replica_set(obj, pods, events, now)
    return describe_replication_controller(obj, pods, events, now)


async def _node_pods(client: Client, node: Any) -> list[Any]:
    selector = (f"spec.nodeName={node.metadata.name},status.phase!=Succeeded,"
                "status.phase!=Failed")
    pods, _ = await client.pods.list_all("", field_selector=selector)
    return [p for p in pods if p.spec.node_name == node.metadata.name
            and p.status.phase not in ("Succeeded", "Failed")]


async def describe_object(client: Client, obj: Any, resource: Any, show_events: bool) -> str:
    now = utc_now()
    if resource is resources.POD:
        return describe_pod(obj, await _pod_events(client, obj) if show_events else None, now)
    if resource is resources.NODE:
        lease, lease_error = None, ""
        try:
            lease = await client.leases.get(obj.metadata.name, NODE_LEASE_NAMESPACE)
        except grpc.aio.AioRpcError as e:
            lease_error = str(e.details())
        events = await _node_events(client, obj) if show_events else None
        return describe_node(obj, await _node_pods(client, obj), events, lease, lease_error, now)
    if resource is resources.NAMESPACE:
        return describe_namespace(obj)
    if resource is resources.SECRET:
        return describe_secret(obj)
    return await _describe_workload(client, obj, resource, show_events, now)


async def _find(client: Client, targets: Targets, selector: str,
                options: GlobalOptions) -> tuple[list[Any], list[str]]:
    """The objects to describe: by name, else by name prefix (as kubectl), else all that match."""
    api = client.for_resource(targets.resource)
    namespace = options.object_namespace(targets.resource)
    if not targets.names:
        items, _ = await api.list_all(options.list_namespace(targets.resource), label_selector=selector)
        return list(items), []
    found: list[Any] = []
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
        matching = [o for o in items if o.metadata.name.startswith(name)]
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
                text = await describe_object(client, obj, targets.resource, args.show_events == "true")
                sys.stdout.write(("\n\n" if printed else "") + text)
                sys.stdout.flush()
                printed += 1
            for line in errors:
                print(line, file=sys.stderr)
            failed = failed or bool(errors)
            if not found and not errors:
                namespace = options.list_namespace(targets.resource)
                print(f"No resources found in {namespace} namespace." if namespace
                      else "No resources found", file=sys.stderr)
    return 1 if failed else 0
