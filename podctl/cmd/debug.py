"""`podctl debug POD --image IMAGE [--target CONTAINER] [-c NAME] [-i] [-t] [-- COMMAND ARGS]`:
adds an ephemeral container to a running pod (kubectl debug's ephemeral-container mode), waits
until it runs, and with -i attaches to it: podctl's standard input, read to its end first, is the
container's, its output comes back as it is written, and its exit code becomes podctl's. Without
-i, podctl returns once the container runs; `podctl logs POD -c NAME` shows its output."""

from __future__ import annotations

import argparse
import asyncio
import sys

from podctl.cmd.flags import Subparsers
from podctl.errors import CommandError
from podctl.options import GlobalOptions
from podctl.pods.ephemeral import (
    DebugContainer,
    add_ephemeral_container,
    debug_container_name,
    wait_until_started,
)

# How long to wait for the container to run (kubectl's --pod-running-timeout).
POD_RUNNING_TIMEOUT = 60.0
PULL_POLICIES = ("Always", "IfNotPresent", "Never")


def add_parser(subparsers: Subparsers, parents: list[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "debug",
        parents=parents,
        help="add an ephemeral debug container to a running pod",
        usage="podctl debug POD --image IMAGE [--target CONTAINER] [-c NAME] [-i] [-t] "
        "[-- COMMAND [ARGS...]]",
    )
    p.add_argument("pod", metavar="POD")
    p.add_argument(
        "command",
        nargs="*",
        metavar="COMMAND",
        help="the container's command and its arguments, after --",
    )
    p.add_argument("--image", required=True, help="the debug container's image")
    p.add_argument(
        "--target",
        default="",
        help="the container whose processes the debug container sees (its PID namespace)",
    )
    p.add_argument(
        "-c", "--container", default="", help="the debug container's name (default: debugger-xxxxx)"
    )
    p.add_argument(
        "-i",
        "--stdin",
        action="store_true",
        help="attach: pass podctl's standard input (read to its end) to the "
        "container and stream its output until it ends",
    )
    p.add_argument(
        "-t", "--tty", action="store_true", help="allocate a TTY for the debug container (needs -i)"
    )
    p.add_argument(
        "--image-pull-policy",
        default="",
        choices=("", *PULL_POLICIES),
        metavar="POLICY",
        help="Always, IfNotPresent or Never",
    )
    p.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an environment variable for the container (repeatable)",
    )
    p.add_argument(
        "--pod-running-timeout",
        type=float,
        default=POD_RUNNING_TIMEOUT,
        metavar="SECONDS",
        help="how long to wait for the container to run",
    )
    p.set_defaults(run=run, dashed_command=None)


def _env(values: list[str]) -> list[tuple[str, str]]:
    env = []
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep or not key:
            raise CommandError(f'error: --env: invalid env: "{value}" (KEY=VALUE)')
        env.append((key, rest))
    return env


def _container(args: argparse.Namespace) -> DebugContainer:
    if args.tty and not args.stdin:
        raise CommandError("error: -i/--stdin is required for containers with -t/--tty=true")
    dashed: list[str] | None = args.dashed_command
    inline: list[str] = args.command
    if dashed is not None and inline:
        raise CommandError(
            f"error: the command goes after --: podctl debug POD --image IMAGE -- "
            f"{' '.join(inline)} (unexpected {' '.join(inline)!r})"
        )
    name = args.container or debug_container_name()
    if not args.container:
        print(f"Defaulting debug container name to {name}.", file=sys.stderr)
    return DebugContainer(
        name=name,
        image=args.image,
        command=dashed or inline,
        target=args.target,
        stdin=args.stdin,
        tty=args.tty,
        image_pull_policy=args.image_pull_policy,
        env=_env(args.env),
    )


async def run(args: argparse.Namespace, options: GlobalOptions) -> int:
    namespace = options.namespace
    container = _container(args)
    async with options.connect() as client:
        pod = await client.pods.get(args.pod, namespace)
        if pod.status.phase in ("Succeeded", "Failed"):
            raise CommandError(
                f"error: cannot debug a completed pod; current phase is {pod.status.phase}"
            )
        await add_ephemeral_container(client, namespace, args.pod, container)
        status = await wait_until_started(
            client, namespace, args.pod, container.name, args.pod_running_timeout
        )
        if not args.stdin:
            return 0
        stdin = await asyncio.to_thread(sys.stdin.buffer.read)
        exit_code: int | None = None
        async for chunk in client.pod_attach(
            namespace, args.pod, container=container.name, stdin=stdin
        ):
            if chunk.data:
                out = sys.stderr.buffer if chunk.stream == "stderr" else sys.stdout.buffer
                out.write(chunk.data)
                out.flush()
            if chunk.HasField("exit_code"):
                exit_code = chunk.exit_code
    if exit_code is None:
        # The stream ended without the process ending (the connection went away).
        terminated = status.state.terminated
        return terminated.exit_code if status.state.HasField("terminated") else 1
    return exit_code
