"""`podctl addon-manager -f DIR`: keeps the cluster's add-ons applied, as kube-up's
kube-addon-manager does with `kubectl apply` every ADDON_CHECK_INTERVAL_SEC (60 s): a deleted or
edited add-on object is put back at the next pass. One process for every pass, so a pass costs
the apply's requests, not a new interpreter's start (0.3 s of CPU a pass when a shell loop ran
`podctl apply`).

Each pass reads the files again. Until a pass has succeeded (the apiserver may be starting beside
it, refusing connections: a failed pass, never an exit) it tries again every second and says what
failed only when that changes; after that, a change
is logged once (not each pass's `unchanged`), a failure at every pass. `--ready-file` is created
once a pass has succeeded: a health check's `test -f` (`docker compose up --wait` waits for it)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from pathlib import Path

from podctl.cmd.apply import ApplyOutcome, apply_objects
from podctl.cmd.flags import Subparsers, add_file_flags
from podctl.errors import CommandError
from podctl.options import GlobalOptions
from podctl.resource.manifests import load
from podplane.client.clientset import Client

RETRY_SECONDS = 1.0


def add_parser(subparsers: Subparsers, parents: list[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "addon-manager",
        parents=parents,
        help="keep the objects in files applied, again every --interval seconds",
    )
    add_file_flags(parser, "keep applied")
    parser.add_argument(
        "--interval", type=float, default=60.0, help="seconds between passes (default 60)"
    )
    parser.add_argument("--ready-file", help="created once a pass has succeeded")
    parser.set_defaults(run=run_addon_manager)


def log(text: str) -> None:
    print(f"addon-manager: {text}", file=sys.stderr, flush=True)


async def _pass(client: Client, args: argparse.Namespace, options: GlobalOptions) -> ApplyOutcome:
    try:
        objects = load(args.filename, options, verb="apply", recursive=args.recursive)
    except CommandError as e:
        return ApplyOutcome(errors=[e.message])
    return await apply_objects(client, objects, options)


class _Passes:
    """What the passes have done so far: ready once one has succeeded; each change logged once,
    and a failure logged when it differs from the last (until ready) or at every pass (after)."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.applied = False
        self.last_failure: list[str] = []

    @property
    def pause(self) -> float:
        return self.args.interval if self.applied else RETRY_SECONDS

    def record(self, outcome: ApplyOutcome) -> None:
        for line in outcome.lines:
            if not line.endswith(" unchanged"):
                log(line)
        if not outcome.errors and not self.applied:
            log(f"add-ons applied: {' '.join(self.args.filename)}")
            self.applied = True
            if self.args.ready_file:
                Path(self.args.ready_file).touch()
        elif outcome.errors and (self.applied or outcome.errors != self.last_failure):
            again = (
                f"in {self.args.interval:g}s"
                if self.applied
                else f"every {RETRY_SECONDS:g}s until it succeeds"
            )
            log(f"apply failed (again {again}):")
            for error in outcome.errors:
                print(error, file=sys.stderr, flush=True)
        self.last_failure = outcome.errors


async def _sleep(stopping: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await stopping.wait()


async def run_addon_manager(args: argparse.Namespace, options: GlobalOptions) -> int:
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    passes = _Passes(args)
    while not stopping.is_set():
        try:
            async with options.connect() as client:
                while not stopping.is_set():
                    passes.record(await _pass(client, args, options))
                    await _sleep(stopping, passes.pause)
        except CommandError as e:
            # Nothing answers at the server yet (the apiserver starting beside it, as under
            # `docker compose up`): a failed pass, tried again, never an exit (compose's --wait
            # takes a restarting container for a failed one).
            passes.record(ApplyOutcome(errors=[e.message]))
            await _sleep(stopping, passes.pause)
    return 0
