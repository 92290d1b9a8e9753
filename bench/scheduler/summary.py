"""The scheduler load test's result in one line: throughput, latency, the two harnesses'
verdicts, what was bound, CPU, the host's speed and whether the run is complete."""

from __future__ import annotations

from bench.scheduler.plot import fmt_s
from bench.scheduler.targets import Targets
from podplane.apimachinery.json_types import JSONObject


def summary_line(result: JSONObject) -> str:
    tp, lat = result["throughput"], result["latency"]
    ceiling = result.get("etcd_ceiling") or {}
    cas = f", etcd CAS ceiling {ceiling['cas']['per_second']:.0f} txn/s" if "cas" in ceiling else ""
    cpu = ", ".join(f"{k} {v:.0f}%" for k, v in result["cpu_percent_while_scheduling"].items())
    per_pod = result.get("cpu_ms_per_pod")
    if per_pod:
        cpu += " (per pod, ms: " + ", ".join(f"{k} {v:.2f}" for k, v in per_pod.items()) + ")"
    events = (
        f"; Scheduled events {result['scheduled_events']}" if "scheduled_events" in result else ""
    )
    speed, host = result.get("host_speed_while_scheduling", {}), result.get("host", {})
    probes = (
        [f"{speed['p50_ms']:.0f} ms ({speed['min_ms']:.0f}-{speed['max_ms']:.0f})"]
        if speed.get("samples")
        else []
    )
    if "probe_before_ms" in host:
        probes.append(f"{host['probe_before_ms']:.0f} ms before")
    probe = f"; host probe {', '.join(probes)}" if probes else ""
    targets = _targets_text(result.get("targets"))
    preemption = result.get("preemption")
    victims = (
        f", victims deleted {preemption['victims_deleted']}"
        + (f"/{preemption['victims_expected']}" if "victims_expected" in preemption else "")
        + (
            f", preemptors bound {preemption['preemptors_bound']}/"
            f"{preemption['preemptors_created']}"
            if "preemptors_created" in preemption
            else ""
        )
        if preemption
        else ""
    )
    init = result.get("init_pods")
    if init:
        victims += f", init pods bound {init['bound']}/{init['created']}"
    return (
        f"{result['workload']} {result['nodes']} nodes / {result['pods']} pods: "
        f"{tp['average']:.0f} pods/s average (peak {tp['peak']:.0f}/s), latency "
        f"p50 {fmt_s(lat['p50'])} p90 {fmt_s(lat['p90'])} "
        f"p99 {fmt_s(lat['p99'])}{targets}; bound {result['bound']}, "
        f"unschedulable {result['unschedulable_marked']}/{result['unschedulable_expected']}, "
        f"violations "
        f"{result['constraint_violations']}, on the cluster's own nodes "
        f"{result['bound_to_other_nodes']}{victims}{cas}{events}{per_pod_counts(result)}"
        f"{_leases_text(result)}; "
        f"CPU {cpu}{probe}; load average "
        f"{' '.join(f'{v:.2f}' for v in result['host']['load_average_before'])} before; "
        f"{'complete' if result['complete'] else 'INCOMPLETE'}"
    )


def per_pod_counts(result: JSONObject) -> str:
    """ "; attempts per pod 1.02 (scheduled 1.00, unschedulable 0.02); apiserver writes per pod
    3.00 (pods create 1.00, ...)", or why either was not measured."""
    text = ""
    attempts = result.get("scheduling_attempts")
    if attempts is not None:
        if attempts["measured"]:
            per = attempts["per_pod"]
            parts = ", ".join(f"{k} {v:.3f}" for k, v in per.items() if k != "total" and v)
            text += f"; attempts per pod {per['total']:.2f} ({parts})"
        else:
            text += f"; attempts per pod not measured ({attempts['why']})"
    writes = result.get("apiserver_writes")
    if writes is not None:
        if writes["measured"]:
            per = writes["per_pod"]
            parts = ", ".join(f"{k} {v:.3f}" for k, v in per["by_request"].items())
            text += f"; apiserver writes per pod {per['total']:.2f} without leases ({parts})"
        else:
            text += f"; apiserver writes per pod not measured ({writes['why']})"
    return text


def _leases_text(result: JSONObject) -> str:
    """How the hollow nodes' leases were kept: the renewals are the apiserver's work too."""
    interval = result.get("settings", {}).get("lease_interval")
    if interval is None:
        return ""
    if interval == 0:
        return "; node leases never renewed (scheduler_perf's nodes)"
    rate = result.get("lease_renewals_per_second")
    skipped = result.get("lease_renewals_skipped", 0)
    return (
        f"; node leases renewed every {interval:g} s "
        f"({result.get('lease_renewals', 0)} renewals"
        + (f", {rate:.0f} a second while scheduling" if rate is not None else "")
        + f", {result.get('lease_renewal_errors', 0)} failed"
        + (f", {skipped} turns skipped, the last still in flight" if skipped else "")
        + ")"
    )


def _targets_text(targets: Targets | None) -> str:
    if not targets:
        return ""
    cl2, perf = targets["clusterloader2"], targets["scheduler_perf"]
    return (
        f"; clusterloader2 best second {cl2['max']:.0f} (>= {cl2['threshold']:.0f}: "
        f"{'met' if cl2['met'] else 'not met'}), scheduler_perf average "
        f"{perf['average']:.0f} (> {perf['threshold']:.0f}: "
        f"{'met' if perf['met'] else 'not met'})"
    )
