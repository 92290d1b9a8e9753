"""The highly available profile's figures (`podplane-bench high-availability`, after `make up-ha`):

- etcd leader loss: a writer creates ConfigMaps one after another through the load balancer; the
  machine whose etcd member leads is killed (`docker kill`, as a power cut); the write
  unavailability is the longest pause between acknowledged writes around the kill. Then the
  machine is started again and its member catches up, before the next kill (--kills times).
- apiserver loss: the same writer (a failed call is retried once, as client-go's retries would);
  one machine's apiserver container is killed (the kubelet starts it again). The API
  unavailability is the longest pause between acknowledged writes.
- write throughput through the load balancer with 3 apiservers, then with 1 (the other two
  stopped as kubeadm stops a static pod: their manifests moved out), on the same etcd:
  --clients writers, each its own connection (so that HAProxy spreads them), --seconds each.

The figures, with p50 and max over the kills, go to --out (JSON) and stdout."""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import secrets
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field

from bench.common.failures import WritesFailed
from bench.high_availability.cluster import (
    ADMIN,
    MANIFESTS,
    MEMBERS,
    SERVER,
    caught_up,
    compose,
    container_of,
    etcd_leader,
    kill_container,
    machine,
    whole,
)
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.client.clientset import Client


@dataclass(frozen=True)
class Options:
    server: str = SERVER
    kills: int = 5
    clients: int = 8
    seconds: float = 20.0
    phases: tuple[str, ...] = ("etcd-leader", "apiserver", "throughput")
    # Each write's deadline: a write stuck on a lost machine is given up after it.
    call_timeout: float = 5.0
    # Seconds of writes before each fault, and after it: the window a pause is measured in.
    before: float = 5.0
    after: float = 15.0
    out: str = "build/bench/high-availability.json"


@dataclass
class Result:
    etcd_leader_loss_s: list[float] = field(default_factory=list)
    apiserver_loss_s: list[float] = field(default_factory=list)
    apiserver_loss_failed_calls: list[int] = field(default_factory=list)
    writes_per_s: dict[str, float] = field(default_factory=dict)


def _config_map(namespace: str, name: str) -> core_pb2.ConfigMap:
    return core_pb2.ConfigMap(
        metadata=meta_pb2.ObjectMeta(name=name, namespace=namespace), data={"n": name}
    )


class Writer:
    """Creates ConfigMaps one after another and remembers when each was acknowledged."""

    def __init__(self, client: Client, namespace: str, timeout: float, retry: bool = False) -> None:
        self.client, self.namespace, self.retry, self.timeout = client, namespace, retry, timeout
        self.acks: list[float] = []
        self.failures = 0
        self._n = itertools.count()

    async def _create(self, name: str) -> None:
        async with asyncio.timeout(self.timeout):
            await self.client.configmaps.create(_config_map(self.namespace, name))

    async def run(self, stop: asyncio.Event) -> None:
        prefix = secrets.token_hex(3)
        while not stop.is_set():
            name = f"w-{prefix}-{next(self._n)}"
            try:
                await self._create(name)
                self.acks.append(time.monotonic())
                continue
            except Exception:  # noqa: BLE001 - a failed write is a pause, measured
                self.failures += 1
            if self.retry:
                try:
                    await self._create(f"{name}-retried")
                    self.acks.append(time.monotonic())
                except Exception:  # noqa: BLE001
                    self.failures += 1

    def longest_pause(self, start: float, end: float) -> float:
        acks = [start, *(a for a in self.acks if start <= a <= end), end]
        return max(b - a for a, b in itertools.pairwise(acks))


async def _wait(check: object, what: str, timeout: float = 300) -> None:
    assert callable(check)
    deadline = time.monotonic() + timeout
    while True:
        try:
            if await asyncio.to_thread(check):
                return
        except Exception:  # noqa: BLE001 - the cluster is coming back
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} after {timeout:.0f} s")
        await asyncio.sleep(2)


async def _namespace(client: Client) -> str:
    name = f"bench-ha-{secrets.token_hex(3)}"
    await client.namespaces.create(core_pb2.Namespace(metadata=meta_pb2.ObjectMeta(name=name)))
    return name


async def _under_writer(writer: Writer, fault: object, options: Options) -> float:
    """Runs the writer around `fault` (a blocking callable); the longest pause around it (a
    pause still going on at the window's end counts up to there)."""
    assert callable(fault)
    stop = asyncio.Event()
    task = asyncio.create_task(writer.run(stop))
    await asyncio.sleep(options.before)
    at = time.monotonic()
    await asyncio.to_thread(fault)
    await asyncio.sleep(options.after)
    stop.set()
    await task
    return writer.longest_pause(at - min(2.0, options.before), at + options.after)


async def etcd_leader_loss(
    client: Client, namespace: str, options: Options, result: Result
) -> None:
    kills = options.kills
    for i in range(kills):
        await _wait(whole, "the control plane whole")
        leader = await asyncio.to_thread(etcd_leader)
        writer = Writer(client, namespace, options.call_timeout)
        pause = await _under_writer(writer, lambda m=leader: compose("kill", m), options)
        result.etcd_leader_loss_s.append(round(pause, 2))
        print(f"etcd leader loss {i + 1}/{kills}: {leader} killed, writes paused {pause:.2f} s")
        await asyncio.to_thread(compose, "start", leader)
        await _wait(lambda m=leader: caught_up(m), f"{leader}'s etcd member caught up")


async def apiserver_loss(client: Client, namespace: str, options: Options, result: Result) -> None:
    kills = options.kills
    for i in range(kills):
        await _wait(whole, "the control plane whole")
        member = list(MEMBERS)[i % len(MEMBERS)]

        def kill(m: str = member) -> None:
            kill_container(m, container_of(m, "kube-apiserver"))

        writer = Writer(client, namespace, options.call_timeout, retry=True)
        pause = await _under_writer(writer, kill, options)
        result.apiserver_loss_s.append(round(pause, 2))
        result.apiserver_loss_failed_calls.append(writer.failures)
        print(
            f"apiserver loss {i + 1}/{kills}: {member}'s killed, writes paused {pause:.2f} s, "
            f"{writer.failures} calls failed"
        )


async def _throughput(options: Options, namespace: str) -> float:
    clients = [
        Client(
            options.server, timeout=options.call_timeout, credentials=ADMIN, agent=f"bench-ha-{i}"
        )
        for i in range(options.clients)
    ]
    try:
        writers = [Writer(c, namespace, options.call_timeout) for c in clients]
        stop = asyncio.Event()
        tasks = [asyncio.create_task(w.run(stop)) for w in writers]
        await asyncio.sleep(2)  # connections made, caches warm
        start = time.monotonic()
        counted = sum(len(w.acks) for w in writers)
        await asyncio.sleep(options.seconds)
        done = sum(len(w.acks) for w in writers) - counted
        elapsed = time.monotonic() - start
        stop.set()
        await asyncio.gather(*tasks)
        if done == 0:  # a run of failed writes is an error, not a throughput of 0/s
            failed = sum(w.failures for w in writers)
            raise WritesFailed(
                f"throughput: no write acknowledged in {elapsed:.0f} s, {failed} failed"
            )
        return done / elapsed
    finally:
        for c in clients:
            await c.close()


async def throughput(options: Options, namespace: str, result: Result) -> None:
    await _wait(whole, "the control plane whole")
    result.writes_per_s["3 apiservers"] = round(await _throughput(options, namespace), 1)
    stopped = [m for m in MEMBERS if m != "cp-1"]
    try:
        for m in stopped:
            await asyncio.to_thread(machine, m, "mv", f"{MANIFESTS}/kube-apiserver.yaml", "/root/")
        for m in stopped:
            await _wait(lambda m=m: not container_of(m, "kube-apiserver"), f"{m}'s apiserver gone")
        await asyncio.sleep(3)  # the load balancer has taken them out
        result.writes_per_s["1 apiserver"] = round(await _throughput(options, namespace), 1)
    finally:
        for m in stopped:
            await asyncio.to_thread(
                machine, m, "mv", "/root/kube-apiserver.yaml", f"{MANIFESTS}/", check=False
            )
    await _wait(whole, "the control plane whole again")
    print("write throughput: " + ", ".join(f"{k} {v}/s" for k, v in result.writes_per_s.items()))


async def _run(options: Options) -> Result:
    result = Result()
    async with Client(options.server, timeout=options.call_timeout, credentials=ADMIN) as client:
        namespace = await _namespace(client)
        try:
            if "etcd-leader" in options.phases:
                await etcd_leader_loss(client, namespace, options, result)
            if "apiserver" in options.phases:
                await apiserver_loss(client, namespace, options, result)
            if "throughput" in options.phases:
                await throughput(options, namespace, result)
        finally:
            await client.namespaces.delete(namespace)
    return result


def _summary(values: list[float]) -> dict[str, float]:
    return {"p50": round(statistics.median(values), 2), "max": max(values)} if values else {}


def run(options: Options) -> int:
    try:
        result = asyncio.run(_run(options))
    except WritesFailed as e:
        print(f"podplane-bench high-availability: error: {e}", file=sys.stderr)
        return 1
    out = {
        "options": asdict(options),
        "cpus": os.cpu_count(),
        "etcd_leader_loss_write_pause_s": _summary(result.etcd_leader_loss_s),
        "apiserver_loss_write_pause_s": _summary(result.apiserver_loss_s),
        "result": asdict(result),
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    os.makedirs(os.path.dirname(os.path.abspath(options.out)), exist_ok=True)
    with open(options.out, "w") as f:
        json.dump(out, f, indent=2)
    print(json.dumps({k: v for k, v in out.items() if k not in ("options", "result")}, indent=2))
    print(f"written: {options.out}", file=sys.stderr)
    return 0


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    defaults = Options()
    p = sub.add_parser(
        "high-availability",
        help="the HA profile: etcd leader loss, apiserver loss, 1 against 3 apiservers",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--server", default=defaults.server, help="the load balancer's gRPC port")
    p.add_argument("--kills", type=int, default=defaults.kills, help="faults of each kind")
    p.add_argument("--clients", type=int, default=defaults.clients, help="writers, throughput")
    p.add_argument("--seconds", type=float, default=defaults.seconds, help="per throughput run")
    p.add_argument(
        "--call-timeout",
        type=float,
        default=defaults.call_timeout,
        help="each write's deadline, seconds (default 5)",
    )
    p.add_argument(
        "--before",
        type=float,
        default=defaults.before,
        help="seconds of writes before each fault (default 5)",
    )
    p.add_argument(
        "--after",
        type=float,
        default=defaults.after,
        help="seconds of writes after each fault, the pause's window (default 15)",
    )
    p.add_argument(
        "--phases",
        default=",".join(defaults.phases),
        help="comma-separated: etcd-leader, apiserver, throughput",
    )
    p.add_argument("--out", default=defaults.out, help="the JSON result")


def options_from(args: argparse.Namespace) -> Options:
    phases = tuple(p.strip() for p in args.phases.split(",") if p.strip())
    unknown = set(phases) - set(Options.phases)
    if unknown:
        raise SystemExit(f"--phases: unknown {', '.join(sorted(unknown))}")
    return Options(
        server=args.server,
        kills=args.kills,
        clients=args.clients,
        seconds=args.seconds,
        call_timeout=args.call_timeout,
        before=args.before,
        after=args.after,
        phases=phases,
        out=args.out,
    )
