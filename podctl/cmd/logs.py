"""`podctl logs`: a container's log, raw bytes to stdout, optionally followed."""
from __future__ import annotations

import argparse
import sys
from typing import Any

from podctl.errors import CommandError
from podctl.options import GlobalOptions

DEFAULT_CONTAINER_ANNOTATION = "kubectl.kubernetes.io/default-container"


def add_parser(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser("logs", parents=parents, help="print a container's log")
    p.add_argument("pod", metavar="POD | TYPE/NAME", help="the pod (or pod/NAME)")
    p.add_argument("container_arg", nargs="?", metavar="CONTAINER", help="the container")
    p.add_argument("-c", "--container", default="", help="the container (default: the pod's first)")
    p.add_argument("-f", "--follow", action="store_true", help="keep streaming as the log grows")
    p.add_argument("--tail", type=int, default=-1, help="only the last N lines (-1: all)")
    p.add_argument("-p", "--previous", action="store_true",
                   help="the log of the previous, terminated instance of the container")
    p.add_argument("--timestamps", action="store_true", help="prefix each line with its timestamp")
    p.set_defaults(run=run)


def pod_name(arg: str) -> str:
    """`jumpod` or `pod/jumpod`; other kinds (job/NAME, ...) are not supported yet."""
    kind, sep, name = arg.partition("/")
    if not sep:
        return arg
    if kind.lower() not in ("pod", "pods", "po"):
        raise CommandError(f"error: cannot get logs from {arg}: only pods have logs for now "
                           f"(logs of {kind}/NAME are not supported yet)")
    if not name:
        raise CommandError(f"error: arguments in resource/name form must have a name: {arg!r}")
    return name


def choose_container(pod: Any, requested: str) -> tuple[str, str]:
    """(container, a note for stderr when one was picked for the user), as kubectl defaults it."""
    names = [c.name for c in pod.spec.containers]
    init_names = [c.name for c in pod.spec.init_containers]
    if requested:
        if requested not in names and requested not in init_names:
            raise CommandError(
                f"error: container {requested} is not valid for pod {pod.metadata.name}")
        return requested, ""
    default = pod.metadata.annotations.get(DEFAULT_CONTAINER_ANNOTATION, "")
    if default in names:
        return default, ""
    if not names:
        raise CommandError(f"error: pod {pod.metadata.name} has no containers")
    if len(names) == 1:
        return names[0], ""
    return names[0], f'Defaulted container "{names[0]}" out of: {", ".join(names + init_names)}'


async def run(args: argparse.Namespace, options: GlobalOptions) -> int:
    name = pod_name(args.pod)
    if args.container_arg and args.container:
        raise CommandError("error: only one of -c or an inline [CONTAINER] arg is allowed")
    namespace = options.namespace
    async with options.connect() as client:
        pod = await client.pods.get(name, namespace)
        container, note = choose_container(pod, args.container or args.container_arg or "")
        if note:
            print(note, file=sys.stderr)
        stream = client.pod_logs(namespace, name, container=container, follow=args.follow,
                                 previous=args.previous, timestamps=args.timestamps,
                                 tail_lines=args.tail if args.tail >= 0 else None)
        out = sys.stdout.buffer
        async for chunk in stream:
            out.write(chunk.data)
            out.flush()
    return 0
