"""`podctl exec POD [-c CONTAINER] [-i] -- COMMAND [ARGS...]`: runs a command in a running
container, without a terminal; its stdout and stderr come back as they are written and its exit code
becomes podctl's (kubectl's "command terminated with exit code N"). With -i, podctl's standard
input, read to its end first, is the command's."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

import grpc

from podctl.cmd.flags import Subparsers
from podctl.errors import CommandError
from podctl.options import GlobalOptions
from podctl.pods.selection import choose_container, first_pod, parse_target
from podplane.apimachinery import resources

# How long `exec TYPE/NAME` waits for one of the owner's pods (kubectl's --pod-running-timeout).
POD_RUNNING_TIMEOUT = 60.0
_DEPRECATED_FORM = (
    "kubectl exec [POD] [COMMAND] is DEPRECATED and will be removed in a future "
    "version. Use kubectl exec [POD] -- [COMMAND] instead."
).replace("kubectl", "podctl")


def add_parser(subparsers: Subparsers, parents: list[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "exec",
        parents=parents,
        help="run a command in a container",
        usage="podctl exec POD [-c CONTAINER] -- COMMAND [ARGS...]",
    )
    p.add_argument(
        "pod",
        metavar="POD | TYPE/NAME",
        help="the pod, or job/NAME, deploy/NAME, rs/NAME, rc/NAME for one of theirs",
    )
    p.add_argument(
        "command", nargs="*", metavar="COMMAND", help="the command and its arguments, after --"
    )
    p.add_argument(
        "-c",
        "--container",
        default="",
        help="the container (default: the pod's only or first container)",
    )
    p.add_argument(
        "-i",
        "--stdin",
        action="store_true",
        help="pass podctl's standard input (read to its end) to the command",
    )
    p.set_defaults(run=run, dashed_command=None)


# The verbs whose command follows `--`.
DASHED_VERBS = ("exec", "debug")


def split_command(argv: Sequence[str]) -> tuple[list[str], list[str] | None]:
    """Splits `... exec|debug POD [flags] -- COMMAND ARGS` at the first `--` (cobra's
    ArgsLenAtDash): what follows is the command, never podctl's flags. (argv, None) for other
    verbs."""
    argv = list(argv)
    if "--" not in argv:
        return argv, None
    dash = argv.index("--")
    if not any(verb in argv[:dash] for verb in DASHED_VERBS):
        return argv, None
    return argv[:dash], argv[dash + 1 :]


def _command(args: argparse.Namespace) -> list[str]:
    dashed: list[str] | None = args.dashed_command
    inline: list[str] = args.command
    if dashed is not None and inline:
        raise CommandError(
            f"error: exec [POD] [COMMAND] is not supported anymore. Use exec "
            f"[POD] -- [COMMAND] instead (unexpected {' '.join(inline)!r})"
        )
    if dashed is None and inline:
        print(_DEPRECATED_FORM, file=sys.stderr)
    command = dashed if dashed is not None else inline
    if not command:
        raise CommandError("error: you must specify at least one command for the container")
    return command


async def run(args: argparse.Namespace, options: GlobalOptions) -> int:
    resource, name = parse_target(args.pod)
    command = _command(args)
    namespace = options.namespace
    async with options.connect() as client:
        if resource is resources.POD:
            pod = await client.pods.get(name, namespace)
        else:
            pod, _ = await first_pod(client, resource, name, namespace, POD_RUNNING_TIMEOUT)
            name = pod.metadata.name
        if pod.status.phase in ("Succeeded", "Failed"):
            raise CommandError(
                f"error: cannot exec into a container in a completed pod; "
                f"current phase is {pod.status.phase}"
            )
        container, note = choose_container(pod, args.container)
        if note:
            print(note, file=sys.stderr)
        stdin = await asyncio.to_thread(sys.stdin.buffer.read) if args.stdin else None
        exit_code: int | None = None
        try:
            async for chunk in client.pod_exec(
                namespace, name, command, container=container, stdin=stdin
            ):
                if chunk.data:
                    out = sys.stderr.buffer if chunk.stream == "stderr" else sys.stdout.buffer
                    out.write(chunk.data)
                    out.flush()
                if chunk.HasField("exit_code"):
                    exit_code = chunk.exit_code
        except grpc.aio.AioRpcError as e:
            # The kubelet's and the apiserver's refusals read as kubectl prints them.
            if (e.details() or "").startswith("unable to upgrade connection"):
                raise CommandError(f"error: {e.details()}") from None
            raise
    if exit_code is None:
        raise CommandError("error: the command's exit code was not reported")
    if exit_code != 0:
        print(f"command terminated with exit code {exit_code}", file=sys.stderr)
    return exit_code
