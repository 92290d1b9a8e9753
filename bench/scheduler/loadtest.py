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
import secrets
import sys
import tempfile
import time

from bench.common import etcd_ceiling, host_speed
from bench.common.measure import Schedule, cpu_percent_in
from bench.common.processes import (
    ApiserverProcess,
    EtcdProcess,
)
from bench.common.progress import Progress
from bench.common.results import write_json
from bench.common.service_accounts import ensure_default_account
from bench.scheduler import component_metrics
from bench.scheduler.flow_schemas import exempt_anonymous_callers
from bench.scheduler.hollow_nodes import HollowNodes
from bench.scheduler.load import Observed, run_pods
from bench.scheduler.options import Options, OwnCluster
from bench.scheduler.phases import WorkloadPhases
from bench.scheduler.plot import write_png
from bench.scheduler.process import SchedulerProcess
from bench.scheduler.result import cpu_sample, run_context, run_result
from bench.scheduler.summary import summary_line
from bench.scheduler.workloads import (
    HIGH_PRIORITY,
    HIGH_PRIORITY_CLASS,
)
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.api.scheduling.v1 import scheduling_pb2
from podplane.apimachinery.json_types import JSONObject
from podplane.client.clientset import Client, is_already_exists
from podplane.client.credentials import credentials_from


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
            # Its own cluster's callers are anonymous: exempt from flow control, as
            # scheduler_perf's are (flow_schemas.py).
            flow_schema = (
                await exempt_anonymous_callers(client)
                if own is not None
                else "the cluster's own configuration"
            )
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
        result["flow_schema"] = flow_schema
        result.update(run_context(options, started_at, progress.elapsed, own, run_id, log_dir))
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
    await _register(options, progress, hollow)

    span = _Span(hollow)
    phases = WorkloadPhases(
        client, namespace, run_id, options.workload, options.nodes, options.pods
    )
    counts = component_metrics.PhaseCounts(options, own)

    async def start_scheduler() -> None:
        assert own is not None
        if options.create_first:  # the CPU figures cover the scheduling only, from here
            progress.end_bar()
            span.start({**cpu_sample(own.pids()), "scheduler": 0.0})
        progress.step("starting the scheduler" + (" under cProfile" if options.profile else ""))
        own.scheduler = await asyncio.to_thread(
            SchedulerProcess.start,
            target,
            log_dir,
            profile_out=os.path.abspath(options.profile) if options.profile else None,
        )
        if options.create_first:
            counts.scheduler_started()
            phases.start_churn()  # beside the scheduling, as the scheduler starts

    if own is not None and options.create_first and phases.needs_scheduler_first:
        # A scheduler fills the nodes, then goes: the measured pods are created without one.
        progress.step("starting a scheduler to fill the nodes")
        own.scheduler = await asyncio.to_thread(SchedulerProcess.start, target, log_dir)
    elif own is not None and not options.create_first:
        await start_scheduler()
    elif own is None:
        await asyncio.sleep(2.0)  # the running scheduler's node informer catches up
    try:
        measured = await phases.prepare(options.timeout, progress)
        if own is not None and options.create_first and own.scheduler is not None:
            progress.step("stopping that scheduler (it releases its lease)")
            await asyncio.to_thread(own.scheduler.stop)
            own.scheduler = None
        progress.step(
            f"creating {measured} {options.workload} pods ({_pace(options)}); waiting for binds"
        )
        await counts.before(scheduler=not options.create_first)
        if not options.create_first:
            span.start(cpu_sample(own.pids() if own is not None else {}, options.containers))
            phases.start_churn()
        report = _BindProgress(progress, own, measured)
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
            probes = span.stop()
            await phases.stop()
        progress.end_bar()
        cpu_after = cpu_sample(own.pids() if own is not None else {}, options.containers)
        await counts.after_scheduling()
        # Counted once every pod is bound: the events the CPU figures paid for (the scheduler's
        # recorder drops what its queue cannot hold, as client-go's broadcaster does).
        scheduled_events = await _scheduled_events(client, namespace)
        await counts.after_writes()
        if own is not None and own.scheduler is not None and options.profile:
            own.scheduler.stop()  # writes the profile
        result = run_result(options, seen, span.cpu_before, cpu_after, hollow, run_id, measured)
        result["scheduled_events"] = scheduled_events
        result.update(counts.per_pod(measured, len(seen.created_at), len(seen.bound_at)))
        beside, violations = await phases.report()
        result.update(beside)
        result["constraint_violations"] += violations
        result["host_speed_while_scheduling"] = host_speed.summary(probes)
        return result
    finally:
        await phases.stop()  # again, if the first phase failed: nothing is left running
        await phases.clean_up()


def _pace(options: Options) -> str:
    return (
        f"{options.rate:g}/s" if options.rate else f"all at once, {options.concurrency} in flight"
    )


async def _register(options: Options, progress: Progress, hollow: HollowNodes) -> None:
    """The hollow nodes and their leases registered (a progress bar in 20 steps), then renewed."""
    progress.step(f"registering {options.nodes} hollow nodes and their leases")
    step = max(1, options.nodes // 20)

    def registered(n: int) -> None:
        if n % step == 0 or n == options.nodes:
            progress.bar("nodes", n, options.nodes)

    await hollow.register(progress=registered)
    progress.end_bar()
    hollow.start_renewing()


class _Span:
    """What is measured over the CPU figures' span besides the CPU: the host's speed and the
    renewals the hollow nodes' leases got."""

    def __init__(self, hollow: HollowNodes) -> None:
        self.hollow = hollow
        self.speed = host_speed.HostSpeed()
        self.cpu_before: dict[str, float] = {}

    def start(self, cpu: dict[str, float]) -> None:
        self.cpu_before.update(cpu)
        self.hollow.count_renewals()
        self.speed.start()

    def stop(self) -> list[float]:
        self.hollow.stop_counting_renewals()
        return self.speed.stop()


class _BindProgress:
    """run_pods' report: the binds so far and their recent rate, twice a second at most; ends
    the run if the scheduler this run started has exited."""

    def __init__(self, progress: Progress, own: OwnCluster | None, measured: int) -> None:
        self.progress, self.own, self.measured = progress, own, measured
        self.last_time, self.last_bound = 0.0, 0

    def __call__(self, seen: Observed) -> None:
        scheduler = self.own.scheduler if self.own is not None else None
        if scheduler is not None and scheduler.process.poll() is not None:
            raise RuntimeError(
                f"the scheduler exited ({scheduler.process.returncode}): see {scheduler.log_path}"
            )
        now = time.monotonic()
        if now - self.last_time < 0.5 and len(seen.bound_at) < self.measured:
            return
        elapsed = now - self.last_time
        recent = (len(seen.bound_at) - self.last_bound) / elapsed if self.last_time else 0.0
        self.last_time, self.last_bound = now, len(seen.bound_at)
        self.progress.bar(
            "bound",
            len(seen.bound_at) + len(seen.unschedulable_at),
            self.measured,
            f"created {len(seen.created_at)}, {recent:.0f} pods/s now",
        )


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
