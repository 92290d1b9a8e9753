"""podplane-bench idle-channels: what one idle gRPC client costs its process, by the channel's
options. Each of --processes processes per variant opens one channel to the apiserver (TLS with
the admin's credentials: PODPLANE_CA / PODPLANE_CERT / PODPLANE_KEY) and holds one watch of
namespaces on it, as every component of a cluster at rest holds its informers' watches; after
SETTLE_SECONDS, for --seconds, each process's CPU (its threads' run time, to the nanosecond) and
its threads' wake-ups (voluntary context switches). All variants run side by side, so a busy
moment of the host weighs on each alike; the median and the range per variant are reported.

The variants: gRPC's defaults, the options every podplane client channel has
(podplane/client/clientset.py CHANNEL_OPTIONS), those without each option that is not a size
limit, one at a time, and those with the 2 s minimum connect timeout the clients had before.

    make up && podplane-bench idle-channels --processes 6 --seconds 45
"""

from __future__ import annotations

import argparse
import asyncio
import json
import select
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.common.results import write_json
from podplane.apimachinery import resources
from podplane.apimachinery.json_types import JSONObject
from podplane.client.clientset import CHANNEL_OPTIONS
from podplane.client.credentials import aio_channel, credentials_from
from podplane.client.resource_client import ResourceClient

# After every process has its watch (its first event: the namespaces that exist), the window
# waits this long for their start-up's threads and timers to quiet down.
SETTLE_SECONDS = 5.0
READY_TIMEOUT = 120.0
ChannelOptions = list[tuple[str, int | str]]
FORMER_CONNECT_TIMEOUT: tuple[str, int | str] = ("grpc.min_reconnect_backoff_ms", 2_000)


@dataclass(frozen=True)
class Options:
    server: str = "localhost:6443"
    processes: int = 6
    seconds: float = 45.0
    out: str = "build/bench/idle-channels.json"


def variants(
    options: Sequence[tuple[str, int | str]] = CHANNEL_OPTIONS,
) -> dict[str, ChannelOptions]:
    """gRPC's defaults, `options`, `options` less each option that is not a message size, and
    `options` with the former minimum connect timeout."""
    out: dict[str, ChannelOptions] = {"grpc defaults": [], "podplane": list(options)}
    for name, _ in options:
        if "message_length" not in name:
            short = name.removeprefix("grpc.")  # the keys are the JSON's paths' steps
            out[f"podplane without {short}"] = [o for o in options if o[0] != name]
    # What the clients had until the machines' SYN retries bounded a connect instead.
    out["podplane with a 2 s minimum connect timeout"] = [*options, FORMER_CONNECT_TIMEOUT]
    return out


@dataclass(frozen=True)
class Reading:
    """A process's threads' run time (ns) and voluntary context switches so far."""

    run_ns: int
    wakeups: int


def read_process(pid: int, proc: Path = Path("/proc")) -> Reading:
    run_ns = wakeups = 0
    for task in (proc / str(pid) / "task").iterdir():
        try:
            run_ns += int((task / "schedstat").read_text().split()[0])
            for line in (task / "status").read_text().splitlines():
                if line.startswith("voluntary_ctxt_switches:"):
                    wakeups += int(line.split()[1])
        except (OSError, IndexError, ValueError):
            continue  # a thread that ended meanwhile
    return Reading(run_ns, wakeups)


@dataclass(frozen=True)
class Result:
    """One process's CPU (ms per second) and wake-ups per second over the window."""

    cpu_ms_per_s: float
    wakeups_per_s: float


def rate(before: Reading, after: Reading, seconds: float) -> Result:
    return Result(
        (after.run_ns - before.run_ns) / 1e6 / seconds, (after.wakeups - before.wakeups) / seconds
    )


@dataclass(frozen=True)
class Summary:
    """A variant's processes: the median and every value, CPU as % of one core."""

    cpu_percent: list[float]
    wakeups_per_s: list[float]

    @classmethod
    def of(cls, results: list[Result]) -> Summary:
        return cls(
            sorted(r.cpu_ms_per_s / 10 for r in results), sorted(r.wakeups_per_s for r in results)
        )

    def as_json(self) -> JSONObject:
        return {
            "processes": len(self.cpu_percent),
            "cpu_percent_of_a_core_median": round(statistics.median(self.cpu_percent), 4),
            "cpu_percent_of_a_core": [round(c, 4) for c in self.cpu_percent],
            "wakeups_per_s_median": round(statistics.median(self.wakeups_per_s), 1),
            "wakeups_per_s": [round(w, 1) for w in self.wakeups_per_s],
        }


async def hold_watch(server: str, options: ChannelOptions) -> None:
    """The process's one channel and its one watch, held until it is killed."""
    channel = aio_channel(server, credentials_from(), options)
    watching = False
    async for _ in ResourceClient(channel, resources.NAMESPACE, 30.0).watch():
        if not watching:
            print("watching", flush=True)
            watching = True


def wait_watching(name: str, child: subprocess.Popen[bytes]) -> None:
    """Returns once `child` says it is watching; exits if it ends or says nothing in time."""
    assert child.stdout is not None
    ready = select.select([child.stdout], [], [], READY_TIMEOUT)[0]
    if not ready or child.stdout.readline().strip() != b"watching":
        raise SystemExit(f"a process of {name!r} did not start its watch (exit {child.poll()})")


def run(options: Options) -> int:
    table = variants()
    children: list[tuple[str, subprocess.Popen[bytes]]] = []
    try:
        for name, channel_options in table.items():
            for _ in range(options.processes):
                argv = [sys.executable, "-m", __name__, options.server, json.dumps(channel_options)]
                child = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
                children.append((name, child))
        for name, child in children:
            wait_watching(name, child)
        time.sleep(SETTLE_SECONDS)
        before = {child.pid: read_process(child.pid) for _, child in children}
        time.sleep(options.seconds)
        after = {child.pid: read_process(child.pid) for _, child in children}
    finally:
        for _, child in children:
            child.kill()
            child.wait()
    by_variant: JSONObject = {}
    report: JSONObject = {"server": options.server, "seconds": options.seconds}
    for name in table:
        results = [
            rate(before[c.pid], after[c.pid], options.seconds) for n, c in children if n == name
        ]
        variant = Summary.of(results)
        by_variant[name] = variant.as_json()
        print(
            f"{name:55s} {statistics.median(variant.cpu_percent):.3f} % of a core, "
            f"{statistics.median(variant.wakeups_per_s):.1f} wake-ups/s "
            f"(median of {len(results)} processes)"
        )
    report["variants"] = by_variant
    write_json(options.out, report)
    print(options.out)
    return 0


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    defaults = Options()
    p = sub.add_parser(
        "idle-channels",
        help="the CPU one idle gRPC client channel costs its process, by channel options",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--server", default=defaults.server, help="the apiserver's gRPC address")
    p.add_argument(
        "--processes", type=int, default=defaults.processes, help="processes per variant"
    )
    p.add_argument("--seconds", type=float, default=defaults.seconds, help="the window measured")
    p.add_argument("--out", default=defaults.out, help="the JSON result")


def options_from(args: argparse.Namespace) -> Options:
    if args.seconds <= 0 or args.processes < 1:
        raise SystemExit("--seconds and --processes must be positive")
    return Options(server=args.server, processes=args.processes, seconds=args.seconds, out=args.out)


if __name__ == "__main__":
    _, server, options_json = sys.argv
    asyncio.run(hold_watch(server, [(str(k), v) for k, v in json.loads(options_json)]))
