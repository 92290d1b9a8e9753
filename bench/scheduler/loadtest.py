"""`podplane-bench scheduler`: the scheduler throughput load test (scheduler_perf's and
clusterloader2's scheduler-throughput, on hollow nodes).

Against a cluster it starts (real etcd, `python -m apiserver`, `python -m scheduler`) or a running
one (--server): measures this host's raw etcd txn/s ceiling, registers N hollow nodes, creates M
pods of a workload, and measures until all are bound: throughput (average and per second),
creation-to-bind latency p50/p90/p99, the CPU each component used; checks every binding against
the workload's constraints; writes a JSON result and a PNG plot; deletes what it created."""

from __future__ import annotations

import asyncio
import datetime
import os
import platform
import secrets
import shlex
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from bench.common import etcd_ceiling, host_speed
from bench.common.measure import Schedule, cpu_percent_in
from bench.common.processes import (
    ApiserverProcess,
    EtcdProcess,
    container_cpu_seconds,
    cpu_seconds,
    host_busy_seconds,
)
from bench.common.progress import Progress
from bench.common.results import write_json
from bench.common.service_accounts import ensure_default_account
from bench.scheduler.fill import fill_for_preemption
from bench.scheduler.hollow_nodes import HollowNodes, node_name
from bench.scheduler.load import Observed, pod_index, run_pods
from bench.scheduler.plot import write_png
from bench.scheduler.process import SchedulerProcess
from bench.scheduler.stats import histogram, latencies, latency_summary, throughput
from bench.scheduler.summary import summary_line
from bench.scheduler.targets import Targets, clusterloader2, scheduler_perf
from bench.scheduler.workloads import (
    HIGH_PRIORITY,
    HIGH_PRIORITY_CLASS,
    fits,
    max_zone_skew,
    pod_kind,
    zone_of,
)
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.api.scheduling.v1 import scheduling_pb2
from podplane.apimachinery.json_types import JSONObject
from podplane.client.clientset import Client, is_already_exists
from podplane.client.credentials import credentials_from


@dataclass(frozen=True)
class Options:
    nodes: int = 1000
    pods: int = 5000
    workload: str = "basic"
    # Pods created per second, each at its time however many are unanswered (clusterloader2's
    # open loop); None: all at once, `concurrency` Create calls in flight: below the
    # apiserver's default --max-mutating-requests-inflight (50), with room for the scheduler's binds
    # (at 64 the excess was refused and retried a second later: 168 pods/s against 213 at 24).
    rate: float | None = None
    concurrency: int = 24
    connections: int = 4
    # Each pod a request of its connection's pod create stream (Pods/CreateStream), not a Create
    # call of its own (--no-create-stream, as clusterloader2 creates them): at --rate 500 the
    # apiserver's 0.1 ms less per pod let the creates keep the rate (docs/benchmarks.md).
    create_stream: bool = True
    server: str | None = None
    out: str = "build/bench/scheduler.json"
    plot: str | None = "build/bench/scheduler.png"
    timeout: float = 600.0
    etcd_ceiling: bool = True
    etcd_duration: float = 3.0
    lease_interval: float = 10.0
    keep: bool = False
    # With --server: Docker containers of that cluster whose CPU the result counts, per pod too
    # (the compose cluster's controller-managers, schedulers, apiserver, etcd).
    containers: tuple[str, ...] = ()
    # With the cluster started here: run the scheduler under cProfile, stats written to this path.
    profile: str | None = None
    # With the cluster started here: run the apiserver under cProfile, stats written to this path
    # when it stops at the end of the run.
    profile_apiserver: str | None = None
    # With the cluster started here: create every pod first and start the scheduler only then, so
    # that the throughput is the scheduler's own (binds and its events included, no creates).
    create_first: bool = False


@dataclass
class OwnCluster:
    etcd: EtcdProcess
    apiserver: ApiserverProcess
    scheduler: SchedulerProcess | None = None

    def pids(self) -> dict[str, int]:
        pids = {"etcd": self.etcd.pid, "apiserver": self.apiserver.pid}
        if self.scheduler is not None:
            pids["scheduler"] = self.scheduler.pid
        return pids

    def stop(self) -> None:
        if self.scheduler is not None:
            self.scheduler.stop()
        self.apiserver.stop()
        self.etcd.stop()


def run(options: Options) -> int:
    try:
        result = asyncio.run(_run(options))
    except RuntimeError as e:
        print(f"podplane-bench scheduler: {e}", file=sys.stderr)
        return 1
    print(summary_line(result))
    return 0 if result["complete"] else 1


async def _etcd_ceiling(options: Options, progress: Progress, run_id: str) -> JSONObject:
    """Raw etcd create/CAS txn/s on this host, on a throwaway etcd stopped before the scheduling
    phase: the tens of thousands of writes would otherwise stay in the cluster's etcd and cost it
    a snapshot (every 100,000 entries) in the middle of the measurement."""
    etcd = EtcdProcess.start()
    try:
        progress.step(f"raw etcd ceiling ({options.etcd_duration:g} s create, then CAS)")

        async def observe(schedule: Schedule) -> dict[str, float]:
            return await cpu_percent_in(schedule.window, {"etcd": etcd.pid})

        prefix = f"/podplane-bench-ceiling/{run_id}"
        out = await etcd_ceiling.run(
            etcd.endpoint,
            prefix,
            etcd_ceiling.Options(
                workers=2, inflight=64, warmup=1.0, duration=options.etcd_duration
            ),
            observe,
        )
        out["etcd"] = "a throwaway local etcd"
        return out
    finally:
        etcd.stop()


async def _run(options: Options) -> JSONObject:
    progress = Progress()
    load_before = os.getloadavg()
    probe_before = host_speed.probe_ms()
    run_id = secrets.token_hex(3)
    started_at = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    own: OwnCluster | None = None
    log_dir = tempfile.mkdtemp(prefix="podplane-bench-scheduler-")
    if options.server is None:
        progress.step("starting etcd and the apiserver")
        etcd = EtcdProcess.start()
        try:
            own = OwnCluster(
                etcd,
                ApiserverProcess.start(
                    etcd.endpoint,
                    log_dir,
                    profile_out=(
                        os.path.abspath(options.profile_apiserver)
                        if options.profile_apiserver
                        else None
                    ),
                ),
            )
        except BaseException:
            etcd.stop()  # the apiserver did not start: leave no etcd behind
            raise
    target = options.server or (own.apiserver.target if own else "")
    result: JSONObject = {}
    try:
        ceiling = (
            await _etcd_ceiling(options, progress, run_id)
            if options.etcd_ceiling
            else {"skipped": "--no-etcd-ceiling"}
        )
        # A running cluster's admin credentials (PODPLANE_CA/CERT/KEY or ~/.podplane/config);
        # its own cluster is plaintext.
        async with Client(target, credentials=None if own else credentials_from()) as client:
            namespace = f"bench-scheduler-{run_id}"
            await client.namespaces.create(
                core_pb2.Namespace(metadata=meta_pb2.ObjectMeta(name=namespace))
            )
            # The cluster started here has no controller-manager to make the account its
            # pods need (a running cluster's may have made it already).
            await ensure_default_account(client.serviceaccounts, namespace)
            await _high_priority_class(client)
            hollow = HollowNodes(
                client, run_id, options.nodes, options.workload, options.lease_interval
            )
            try:
                result = await _measure(
                    options, progress, client, target, namespace, hollow, own, log_dir, run_id
                )
            finally:
                if options.server is not None and not options.keep:
                    progress.step("cleaning up: pods, hollow nodes and leases, namespace")
                    await _clean_up(client, namespace, hollow)
                else:
                    await hollow.stop_renewing()
        result["etcd_ceiling"] = ceiling
        result.update(_context(options, started_at, progress.elapsed, own, run_id, log_dir))
        result["host"]["load_average_before"] = load_before
        result["host"]["probe_before_ms"] = probe_before
        _write(result, options)
        return result
    finally:
        if own is not None:
            own.stop()


async def _measure(
    options: Options,
    progress: Progress,
    client: Client,
    target: str,
    namespace: str,
    hollow: HollowNodes,
    own: OwnCluster | None,
    log_dir: str,
    run_id: str,
) -> JSONObject:
    progress.step(f"registering {options.nodes} hollow nodes and their leases")
    step = max(1, options.nodes // 20)

    def registered(n: int) -> None:
        if n % step == 0 or n == options.nodes:
            progress.bar("nodes", n, options.nodes)

    await hollow.register(progress=registered)
    progress.end_bar()
    hollow.start_renewing()

    cpu_before: dict[str, float] = {}
    # Sampled over the same span as the CPU figures.
    speed = host_speed.HostSpeed()

    async def start_scheduler() -> None:
        assert own is not None
        if options.create_first:  # the CPU figures cover the scheduling only, from here
            progress.end_bar()
            cpu_before.update(_cpu_sample(own.pids()), scheduler=0.0)
            speed.start()
        progress.step("starting the scheduler" + (" under cProfile" if options.profile else ""))
        own.scheduler = await asyncio.to_thread(
            SchedulerProcess.start,
            target,
            log_dir,
            profile_out=os.path.abspath(options.profile) if options.profile else None,
        )

    if own is not None and not options.create_first:
        await start_scheduler()
    elif own is None:
        await asyncio.sleep(2.0)  # the running scheduler's node informer catches up
    measured, kubelet = options.pods, None
    if options.workload == "preemption":
        measured, kubelet = await fill_for_preemption(
            client, namespace, run_id, options.nodes, options.pods, options.timeout, progress
        )
    rate = (
        f"{options.rate:g}/s" if options.rate else f"all at once, {options.concurrency} in flight"
    )
    progress.step(f"creating {measured} {options.workload} pods ({rate}); waiting for binds")
    if not options.create_first:
        cpu_before.update(_cpu_sample(own.pids() if own is not None else {}, options.containers))
        speed.start()
    last = [0.0, 0]

    def report(seen: Observed) -> None:
        scheduler = own.scheduler if own is not None else None
        if scheduler is not None and scheduler.process.poll() is not None:
            raise RuntimeError(
                f"the scheduler exited ({scheduler.process.returncode}): see {scheduler.log_path}"
            )
        now = time.monotonic()
        if now - last[0] < 0.5 and len(seen.bound_at) < measured:
            return
        recent = (len(seen.bound_at) - last[1]) / (now - last[0]) if last[0] else 0.0
        last[0], last[1] = now, len(seen.bound_at)
        progress.bar(
            "bound",
            len(seen.bound_at) + len(seen.unschedulable_at),
            measured,
            f"created {len(seen.created_at)}, {recent:.0f} pods/s now",
        )

    try:
        seen = await run_pods(
            client,
            target,
            namespace,
            options.workload,
            run_id,
            measured,
            options.rate,
            options.concurrency,
            options.connections,
            options.timeout,
            report,
            after_create=start_scheduler if options.create_first else None,
            create_stream=options.create_stream,
        )
    finally:
        probes = speed.stop()
        if kubelet is not None:
            await kubelet.stop()
    progress.end_bar()
    cpu_after = _cpu_sample(own.pids() if own is not None else {}, options.containers)
    # Counted once every pod is bound: the events the CPU figures paid for (the scheduler's
    # recorder drops what its queue cannot hold, as client-go's broadcaster does).
    scheduled_events = await _scheduled_events(client, namespace)
    if own is not None and own.scheduler is not None and options.profile:
        own.scheduler.stop()  # writes the profile
    result = _result(options, seen, cpu_before, cpu_after, hollow, run_id, measured)
    result["scheduled_events"] = scheduled_events
    if kubelet is not None:
        # Each preemptor evicts 3 of the 4 low-priority pods on its node.
        result["preemption"] = {
            "low_priority_pods": options.pods - measured,
            "victims_deleted": kubelet.finished,
            "victims_expected": 3 * measured,
            "deletion_errors": kubelet.errors,
        }
    result["host_speed_while_scheduling"] = host_speed.summary(probes)
    return result


async def _high_priority_class(client: Client) -> None:
    """The class the preemption workload's preemptors name (kept across runs, as it is
    cluster-scoped and the same every time)."""
    high = scheduling_pb2.PriorityClass(
        metadata=meta_pb2.ObjectMeta(name=HIGH_PRIORITY_CLASS), value=HIGH_PRIORITY
    )
    try:
        await client.priorityclasses.create(high)
    except Exception as e:
        if not is_already_exists(e):
            raise


async def _scheduled_events(client: Client, namespace: str) -> int:
    """The Scheduled events in the run's namespace."""
    events, _ = await client.events.list_all(namespace, page_size=2000)
    return sum(e.reason == "Scheduled" for e in events)


def _cpu_sample(pids: dict[str, int], containers: Sequence[str] = ()) -> dict[str, float]:
    sample = {
        "host": host_busy_seconds(),
        "load generator": time.process_time(),
        "wall": time.monotonic(),
    }
    for name, pid in pids.items():
        try:
            sample[name] = cpu_seconds(pid)
        except OSError:
            pass
    for container in containers:
        sample[container] = container_cpu_seconds(container)  # named, so missing is an error
    return sample


def _result(
    options: Options,
    seen: Observed,
    before: dict[str, float],
    after: dict[str, float],
    hollow: HollowNodes,
    run_id: str,
    pods: int,
) -> JSONObject:
    """`pods`: those measured (the preemption workload's preemptors, not its first pods)."""
    lat = latencies(seen.created_at, seen.bound_at)
    edges, counts = histogram(lat)
    # With the pods created first, the clock starts at the first bind: the scheduler's own pace.
    start = (
        min(seen.bound_at.values(), default=seen.first_create)
        if options.create_first
        else seen.first_create
    )
    tp = throughput(start, list(seen.bound_at.values()))
    wall = after["wall"] - before["wall"]
    cpu = {
        name: 100 * (after[name] - before[name]) / wall
        for name in after
        if name != "wall" and name in before
    }
    decided = max(1, len(seen.bound_at) + len(seen.unschedulable_at))
    cpu_per_pod = {
        name: 1000 * (after[name] - before[name]) / decided
        for name in after
        if name != "wall" and name in before
    }
    violations = elsewhere = 0
    zones: Counter[str] = Counter()
    prefix = node_name(run_id, 0).rsplit("-", 1)[0] + "-"
    for name, node in seen.node_of.items():
        i = pod_index(name)
        if not node.startswith(prefix):
            elsewhere += 1  # a running cluster's own node: it may take some of the pods
            continue
        n = int(node[len(prefix) :])
        if not fits(options.workload, i, n):
            violations += 1
        if pod_kind(options.workload, i).spread and n >= 0:
            zones[zone_of(n)] += 1
    unschedulable_expected = sum(pod_kind(options.workload, i).unschedulable for i in range(pods))
    complete = (
        not seen.timed_out
        and seen.create_errors == 0
        and len(seen.bound_at) == pods - unschedulable_expected
    )
    return {
        "complete": complete,
        "timed_out": seen.timed_out,
        "created": len(seen.created_at),
        "create_errors": seen.create_errors,
        "bound": len(seen.bound_at),
        "unschedulable_expected": unschedulable_expected,
        "unschedulable_marked": len(seen.unschedulable_at),
        "create_seconds": seen.last_create - seen.first_create,
        "create_rate": len(seen.created_at) / max(seen.last_create - seen.first_create, 1e-9),
        "throughput": tp.to_json(),
        "latency": latency_summary(lat),
        # The throughput floors are SchedulingBasic's; preemption has none of its own here.
        "targets": None
        if options.workload == "preemption"
        else Targets(
            clusterloader2=clusterloader2(tp.per_second),
            scheduler_perf=scheduler_perf(tp.per_second),
        ),
        "throughput_from": "the first bind (pods created first)"
        if options.create_first
        else "the first Create",
        "latency_histogram": {"edges": edges, "counts": counts},
        "cpu_percent_while_scheduling": cpu,
        # CPU ms per pod bound or marked unschedulable, by component: what the host pays a pod.
        "cpu_ms_per_pod": cpu_per_pod,
        "wall_seconds_scheduling": wall,
        "constraint_violations": violations,
        "bound_to_other_nodes": elsewhere,
        "spread_max_skew": max_zone_skew(dict(zones)) if zones else None,
        "lease_renewals": hollow.renewals,
        "lease_renewal_errors": hollow.renewal_errors,
    }


def _context(
    options: Options,
    started_at: str,
    elapsed: float,
    own: OwnCluster | None,
    run_id: str,
    log_dir: str,
) -> JSONObject:
    return {
        "command": "podplane-bench " + shlex.join(sys.argv[1:]),
        "started_at": started_at,
        "wall_seconds": elapsed,
        "run_id": run_id,
        "workload": options.workload,
        "nodes": options.nodes,
        "pods": options.pods,
        "settings": asdict(options),
        "cluster": "started here: etcd, python -m apiserver, python -m scheduler"
        if own is not None
        else f"running cluster at {options.server}",
        "logs": log_dir if own is not None else None,
        "host": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "load_average": os.getloadavg(),
        },
    }


async def _clean_up(client: Client, namespace: str, hollow: HollowNodes) -> None:
    """Pods first (with grace 0: no kubelet will finish a graceful deletion), then the nodes and
    leases, then the namespace."""
    items, _ = await client.pods.list_all(namespace)
    limit = asyncio.Semaphore(32)

    async def delete(name: str) -> None:
        async with limit:
            try:
                await client.pods.delete(name, namespace, grace_period_seconds=0)
            except Exception:  # noqa: BLE001 - already gone
                pass

    await asyncio.gather(*(delete(p.metadata.name) for p in items))
    await hollow.remove()
    await client.namespaces.delete(namespace)


def _write(result: JSONObject, options: Options) -> None:
    write_json(options.out, result)
    if options.plot:
        write_png(result, options.plot)
