"""`podctl logs`: a container's log, raw bytes to stdout, optionally followed; for a job,
deployment, replica set or replication controller, the log of one of its pods, picked as kubectl
picks it."""

from __future__ import annotations

import argparse
import sys

from podctl.cmd.flags import Subparsers, parse_duration
from podctl.errors import CommandError
from podctl.options import GlobalOptions
from podctl.pods.selection import choose_container, first_pod, parse_target
from podplane.apimachinery import resources


def add_parser(subparsers: Subparsers, parents: list[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser("logs", parents=parents, help="print a container's log")
    p.add_argument(
        "pod",
        metavar="POD | TYPE/NAME",
        help="the pod, or job/NAME, deploy/NAME, rs/NAME, rc/NAME for one of theirs",
    )
    p.add_argument("container_arg", nargs="?", metavar="CONTAINER", help="the container")
    p.add_argument("-c", "--container", default="", help="the container (default: the pod's first)")
    p.add_argument("-f", "--follow", action="store_true", help="keep streaming as the log grows")
    p.add_argument("--tail", type=int, default=-1, help="only the last N lines (-1: all)")
    p.add_argument(
        "-p",
        "--previous",
        action="store_true",
        help="the log of the previous, terminated instance of the container",
    )
    p.add_argument("--timestamps", action="store_true", help="prefix each line with its timestamp")
    p.add_argument(
        "--pod-running-timeout",
        default="20s",
        help="how long to wait for a pod of TYPE/NAME to appear (default 20s)",
    )
    p.set_defaults(run=run)


def _duration(value: str, flag: str) -> float:
    try:
        return parse_duration(value)
    except CommandError:
        raise CommandError(
            f'error: invalid argument "{value}" for "{flag}" flag: time: invalid duration "{value}"'
        ) from None


async def run(args: argparse.Namespace, options: GlobalOptions) -> int:
    resource, name = parse_target(args.pod)
    if args.container_arg and args.container:
        raise CommandError("error: only one of -c or an inline [CONTAINER] arg is allowed")
    timeout = _duration(args.pod_running_timeout, "--pod-running-timeout")
    namespace = options.namespace
    async with options.connect() as client:
        if resource is resources.POD:
            pod = await client.pods.get(name, namespace)
        else:
            pod, found = await first_pod(client, resource, name, namespace, timeout)
            if found > 1:
                print(f"Found {found} pods, using pod/{pod.metadata.name}", file=sys.stderr)
            name = pod.metadata.name
        container, note = choose_container(pod, args.container or args.container_arg or "")
        if note:
            print(note, file=sys.stderr)
        stream = client.pod_logs(
            namespace,
            name,
            container=container,
            follow=args.follow,
            previous=args.previous,
            timestamps=args.timestamps,
            tail_lines=args.tail if args.tail >= 0 else None,
        )
        out = sys.stdout.buffer
        async for chunk in stream:
            out.write(chunk.data)
            out.flush()
    return 0
