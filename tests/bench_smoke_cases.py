"""The benchmarks' smoke tests by stage (tests/bench_smoke.py runs them): each `podplane-bench`
command at a tiny size and its headline figures. INTEGRATION: the benchmarks that start their own
etcd and apiserver or need no cluster (tests/integration/bench); E2E: the compose cluster's
(`make up`, tests/e2e); E2E_HA: the highly available profile's (`make up-ha`, tests/e2e_ha).
Kept small for the shared clusters and CI's time: seconds each, a few pods."""

from __future__ import annotations

from tests import tools
from tests.bench_smoke import DIR, OUT, Smoke
from tests.e2e.compose_cluster import SERVER as E2E_SERVER
from tests.e2e.kubectl import KUBECONFIG
from tests.e2e_ha.ha_cluster import SERVER as HA_SERVER

# Writes are a closed loop per client: one client and then two, half a second of warm-up and
# one measured second per cell, one worker process each.
TINY_WRITES = ("--warmup", "0.5", "--duration", "1", "--client-processes", "1")

INTEGRATION = [
    Smoke(
        (
            "apiserver",
            "--quick",
            *TINY_WRITES,
            "--clients",
            "1,2",
            "--etcd-duration",
            "1",
            "--etcd-workers",
            "1",
            "--etcd-inflight",
            "8",
            "--watchers",
            "2",
            "--watch-processes",
            "1",
            "--watch-duration",
            "1",
            "--out",
            OUT,
            "--markdown-out",
            f"{DIR}/apiserver.md",
        ),
        (
            "etcd.create.per_second",
            "etcd.cas.per_second",
            "writes.*.create.per_second",
            "writes.*.create.p99",
            "writes.*.update.per_second",
            "writes.*.update.p99",
            "watch.*.deliveries",
            "watch.*.from_write_start.p99",
        ),
    ),
    Smoke(
        (
            "apiserver-overload",
            "--guards",
            "apf",
            "--clients",
            "4",
            "--nodes",
            "2",
            "--cluster-watchers",
            "1",
            "--electors",
            "2",
            "--heartbeat-interval",  # each node renews at least once in the window
            "2",
            "--warmup",
            "1",
            "--duration",
            "3",
            "--client-processes",
            "1",
            "--out",
            OUT,
            "--markdown-out",
            f"{DIR}/apiserver-overload.md",
        ),
        (
            "cells.*.create.accepted.per_second",
            "cells.*.update.accepted.per_second",
            "cells.*.leader_election.count",
            "cells.*.node_heartbeat.count",
            "cells.*.watch.events",
        ),
    ),
    Smoke(
        (
            "scheduler",
            "--nodes",
            "5",
            "--pods",
            "20",
            "--etcd-duration",
            "1",
            "--out",
            OUT,
            "--plot",
            f"{DIR}/scheduler.png",
        ),
        (
            "etcd_ceiling.create.per_second",
            "etcd_ceiling.cas.per_second",
            "bound",
            "scheduled_events",
            "throughput.average",
            "latency.p99",
            # From the scheduler's and the apiserver's own /metrics.
            "scheduling_attempts.per_pod.scheduled",
            "apiserver_writes.per_pod.by_request.pods/binding create",
            "apiserver_writes.per_pod.total",
        ),
    ),
    Smoke(
        ("scheduler-decision", "--nodes", "10", "--pods", "20", "--out", OUT),
        ("cpu_ms_per_decision.bulk", "cpu_ms_per_decision.per_node"),
    ),
    Smoke(
        ("lease-renewals", "--nodes", "20", "--interval", "0.5", "--seconds", "1", "--out", OUT),
        (
            "phases.*.answered_per_second",
            "phases.*.apiserver_cpu_ms",
            "phases.*.etcd_cpu_ms",
            "phases.*.client_cpu_ms",
        ),
    ),
    Smoke(
        ("apiserver-costs", "--calls", "50", "--out", OUT),
        ("etcd_txn_cpu_us", "etcd_watch_event_cpu_us", "pod_create_steps_cpu_us.*"),
    ),
    Smoke(
        ("authorization", "--roles", "5", "--requests", "50", "--out", OUT),
        ("cpu_us_per_decision.*.*",),
    ),
    Smoke(
        ("grpc-costs", "--calls", "50", "--out", OUT),
        ("calls_per_second", "client_cpu_us_per_call", "server_cpu_us_per_call"),
    ),
    Smoke(
        ("scheduling-costs", "--pods", "50", "--out", OUT),
        ("bind.*.per_second", "bind.*.apiserver_us", "event.*.per_second", "event.*.apiserver_us"),
    ),
    Smoke(
        (
            "apiserver-doors",
            "--quick",
            *TINY_WRITES,
            "--clients",
            "1",
            "--watchers",
            "2",
            "--watch-processes",
            "1",
            "--watch-duration",
            "1",
            "--list-pods",
            "10",
            "--list-repetitions",
            "1",
            "--kubectl",
            str(tools.BIN / "kubectl"),
            "--out",
            OUT,
            "--markdown-out",
            f"{DIR}/apiserver-doors.md",
        ),
        (
            "writes.*.create.per_second",
            "writes.*.create.p99",
            "watch.*.deliveries",
            "listing.kubectl.median",
            "listing.podctl.median",
        ),
        python_module=True,
    ),
    Smoke(
        (
            "custom-resources",
            "--quick",
            *TINY_WRITES,
            "--clients",
            "1",
            "--rounds",
            "1",
            "--out",
            OUT,
            "--markdown-out",
            f"{DIR}/custom-resources.md",
        ),
        ("writes.*.create.per_second", "writes.*.create.p99", "verdict.by_clients.*.ratio"),
        python_module=True,
    ),
    Smoke(
        ("kube-proxy-sync", "--services", "5", "--endpoints", "2", "--syncs", "2", "--out", OUT),
        (
            "summary.*.p50_ms",
            "summary.*.iptables_p50_ms",
            "iptables_rules.nat",
            "iptables_rules.filter",
        ),
    ),
    Smoke(
        (
            "netpol",
            "--policies",
            "4",
            "--pods",
            "20",
            "--local-pods",
            "5",
            "--syncs",
            "2",
            "--out",
            OUT,
        ),
        ("first_sync_seconds", "added_policy_sync_p50_seconds", "rules"),
    ),
]

E2E = [
    Smoke(
        (
            "idle-channels",
            "--server",
            E2E_SERVER,
            "--processes",
            "1",
            "--seconds",
            "3",
            "--out",
            OUT,
        ),
        ("variants.*.cpu_percent_of_a_core_median", "variants.*.wakeups_per_s_median"),
    ),
    Smoke(
        ("pods", "--server", E2E_SERVER, "--pods", "3", "--rate", "burst", "--out", OUT),
        (
            "cells.*.pod_startup.per_second",
            "cells.*.pod_startup.p99",
            "cells.*.create_to_scheduled.p99",
            "cells.*.scheduled_to_running.p99",
            "cells.*.node_cpu_ms_per_pod.all",
        ),
    ),
    Smoke(
        ("dns", "--server", E2E_SERVER, "--queries", "20", "--out", OUT),
        ("servers.*.count", "servers.*.per_second", "servers.*.p99"),
    ),
    Smoke(
        ("ingress", "--server", E2E_SERVER, "--seconds", "2", "--connections", "4", "--out", OUT),
        (
            "create_to_routed_s",
            "ingress.per_second",
            "ingress.p99",
            "cluster_ip.per_second",
            "cluster_ip.p99",
        ),
    ),
    Smoke(
        (
            "statefulset",
            "--server",
            E2E_SERVER,
            "--replicas",
            "2",
            "--policies",
            "OrderedReady,Parallel",
            "--claims",
            "both",
            "--timeout",
            "120",
            "--out",
            OUT,
        ),
        ("cells.*.ready", "cells.*.first_ready", "cells.*.all_ready"),
    ),
    Smoke(
        ("service-programming", "--server", E2E_SERVER, "--services", "2", "--out", OUT),
        ("every_node_seconds.count", "every_node_seconds.p99", "per_node_seconds.*.p99"),
    ),
    Smoke(
        ("idle", "--settle", "0", "--seconds", "5", "--out", OUT),
        (
            "containers_cores",
            "host_busy_cores",
            "cluster_host_wide_cores",
            "services.apiserver.cores",
            "services.etcd.cores",
        ),
        python_module=True,
    ),
    Smoke(
        (
            "autoscaling",
            "--kubeconfig",
            str(KUBECONFIG),
            "--runs",
            "1",
            "--pods",
            "2",
            "--calls",
            "10",
            "--seconds",
            "5",
            "--settle",
            "2",
            "--out",
            OUT,
        ),
        (
            "reaction.runs.*.metrics_above_s",
            "reaction.runs.*.hpa_desired_s",
            "reaction.runs.*.scaled_s",
            "kubelet.cells.*.calls.*.kubelet_ms_per_call",
            "kubelet.cells.*.calls.*.wall_ms_per_call",
            "kubelet.cells.*.calls.*.bytes",
        ),
        python_module=True,
    ),
]

E2E_HA = [
    Smoke(
        (
            "high-availability",
            "--server",
            HA_SERVER,
            "--kills",
            "1",
            "--clients",
            "2",
            "--seconds",
            "2",
            # a second of writes before each fault and six after it (a leader's loss stopped
            # them for 5 s at most in the full benchmark's runs: docs/benchmarks.md)
            "--before",
            "1",
            "--after",
            "6",
            "--out",
            OUT,
        ),
        (
            "etcd_leader_loss_write_pause_s.max",
            "apiserver_loss_write_pause_s.max",
            "result.writes_per_s.3 apiservers",
            "result.writes_per_s.1 apiserver",
        ),
    ),
]
