"""The scheduler load test's objects: hollow Nodes and the pods of each workload, modelled on
kubernetes test/integration/scheduler_perf (config/templates/node-default.yaml: 4 cpu, 32Gi,
110 pods, Ready; pod-default.yaml: one container requesting 100m cpu and 500Mi memory).

Workloads (scheduler_perf's names in brackets):
- basic:           every pod fits every node (SchedulingBasic);
- node-affinity:   nodes in 5 zones, pods require 2 of them, half by nodeSelector and half by
                   required node affinity (SchedulingNodeAffinity);
- topology-spread: pods spread over the 5 zones with maxSkew 1, DoNotSchedule (TopologySpreading);
- taints:          half the nodes tainted NoSchedule, half the pods tolerate it;
- mixed:           all of the above, and one pod in ten asks for a label no node has, so it stays
                   unschedulable (PodScheduled=False) while the others are bound;
- preemption:      every node first filled with 4 low-priority pods of 900m (not measured), then
                   the measured pods, priority 10 and 3000m each, each preempting 3 of the 4 on a
                   node (PreemptionBasic: its pod-low-priority and pod-high-priority templates;
                   --pods counts both, 4 per node low and the rest high, at most one per node).

scheduler_perf's shapes (test/integration/scheduler_perf/misc/performance-config.yaml, read at
kubernetes commit 008b365, later than release-1.31; its templates in templates/), each with the
floor its 5000-node variant (15000 for SchedulingDaemonset) sets on the average pods/s, which the
run is judged by:
- unschedulable:   200 pods asking for 9 cpu, which fit no node, created before the measured
                   pods and not waited for (Unschedulable's 5000Nodes/200InitPods in the older
                   config/performance-config.yaml: its init pods of pod-large-cpu.yaml with
                   skipWaitToCompletion, measurePods 5000); --pods counts the measured
                   ones, which must all be bound while the 200 stay unbound. Floor 590
                   (5kNodes/100Init/10kPods, where the config now injects its unschedulable pods
                   at 5 a second instead);
- mixed-churn:     the measured pods while, every second, a Node, a 9-cpu pod of priority 10 and
                   a Service are each created, or deleted if they exist (SchedulingWithMixedChurn:
                   its churn op in mode recreate, number 1, interval 1000 ms). Floor 710
                   (5000Nodes_10000Pods);
- preemption-async: every node first filled as for preemption, then the measured pods (100m each,
                   which fit beside the low ones) while a preemptor (priority 10, 3000m) is
                   created every 200 ms (PreemptionAsync: its churn op in mode create); --pods
                   counts the low-priority pods and the measured ones, at most one per node.
                   Floor 570 (5000Nodes: --nodes 5000 --pods 25000);
- daemonset:       every pod pinned to the first hollow node (which holds 90000 pods) by required
                   node affinity on metadata.name, as the DaemonSet controller makes its pods; the
                   others are there to be filtered out (SchedulingDaemonset: node-with-name.yaml
                   and daemonset-pod.yaml, no requests). Floor 1100 (15000Nodes: --nodes 15001
                   --pods 30000).
SchedulingBasic's 5000Nodes_50000Pods (floor 810) is basic at other counts (--nodes 5000
--pods 50000), without its 5000 init pods; the run is judged by basic's 680."""

from __future__ import annotations

from dataclasses import dataclass

from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2

WORKLOADS = (
    "basic",
    "node-affinity",
    "topology-spread",
    "taints",
    "mixed",
    "preemption",
    "unschedulable",
    "mixed-churn",
    "preemption-async",
    "daemonset",
)
# The workloads that fill every node with low-priority pods before the measured ones.
FILLED_WORKLOADS = ("preemption", "preemption-async")
# scheduler_perf's floors on the average pods/s (its `threshold`) of the workloads modelled on its
# 5000-node variants, and mixed's (one pod in ten stays unschedulable, judged as Unschedulable);
# the others are judged by SchedulingBasic's (targets.py).
SCHEDULER_PERF_FLOORS = {
    "mixed": 590.0,
    "unschedulable": 590.0,
    "mixed-churn": 710.0,
    "preemption-async": 570.0,
    "daemonset": 1100.0,
}

RUN_LABEL = "bench.podplane.io/scheduler-run"
HOLLOW_LABEL = "bench.podplane.io/hollow-node"
ZONE_LABEL = "topology.kubernetes.io/zone"
ZONES = 5
# The zones node-affinity pods require.
AFFINITY_ZONES = ("zone-0", "zone-1")
TAINT_KEY = "bench.podplane.io/dedicated"
TAINT_VALUE = "bench"
# A node label no hollow node has: pods selecting it stay unschedulable.
MISSING_LABEL = "bench.podplane.io/no-such-label"
SPREAD_LABEL = "bench.podplane.io/spread"

NODE_CAPACITY = {"cpu": "4", "memory": "32Gi", "pods": "110"}
POD_REQUESTS = {"cpu": "100m", "memory": "500Mi"}
# The preemption workload's pods: 4 low ones fill a node, a high one needs 3 of them gone.
LOW_PRIORITY_REQUESTS = {"cpu": "900m", "memory": "500Mi"}
HIGH_PRIORITY_REQUESTS = {"cpu": "3000m", "memory": "500Mi"}
HIGH_PRIORITY = 10
# The PriorityClass the preemptors name: the Priority admission plugin gives them its value.
HIGH_PRIORITY_CLASS = "podplane-bench-high"
LOW_PODS_PER_NODE = 4
# Unschedulable's init pods and the churned pod of mixed-churn: more cpu than any node has
# (pod-large-cpu.yaml, pod-high-priority-large-cpu.yaml).
LARGE_CPU_REQUESTS = {"cpu": "9", "memory": "500Mi"}
UNSCHEDULABLE_INIT_PODS = 200
# The node every daemonset pod is pinned to holds that many pods (node-with-name.yaml).
DAEMONSET_NODE_PODS = "90000"
# Hollow nodes' podCIDRs come from 100.64.0.0/10, outside any cluster CIDR, so that the node IPAM
# controller neither hands them out nor runs out of subnets for real nodes.
_POD_CIDR_BASE = (100 << 24) | (64 << 16)
MAX_NODES = 1 << 14


def node_name(run_id: str, index: int) -> str:
    return f"hollow-{run_id}-{index:05d}"


def zone_of(index: int) -> str:
    return f"zone-{index % ZONES}"


def node_tainted(workload: str, index: int) -> bool:
    if workload == "taints":
        return index % 2 == 1
    if workload == "mixed":
        return index % 4 == 3
    return False


def hollow_node(name: str, index: int, workload: str, run_id: str, now: str) -> core_pb2.Node:
    """A Node Ready with scheduler_perf's capacity. Like scheduler_perf's node template it has no
    kubernetes.io/os label, so the cluster's DaemonSets (kube-proxy selects linux nodes) make no
    pods for it: no kubelet would run them, and they would be scheduled within the run."""
    if not 0 <= index < MAX_NODES:
        raise ValueError(f"node index {index}: at most {MAX_NODES} hollow nodes")
    cidr_int = _POD_CIDR_BASE + (index << 8)
    cidr = f"{cidr_int >> 24}.{(cidr_int >> 16) & 255}.{(cidr_int >> 8) & 255}.0/24"
    node = core_pb2.Node(
        api_version="v1",
        kind="Node",
        metadata=meta_pb2.ObjectMeta(
            name=name,
            labels={
                "kubernetes.io/hostname": name,
                ZONE_LABEL: zone_of(index),
                HOLLOW_LABEL: "true",
                RUN_LABEL: run_id,
            },
        ),
        spec=core_pb2.NodeSpec(pod_cidr=cidr, pod_cidrs=[cidr]),
    )
    if node_tainted(workload, index):
        node.spec.taints.add(key=TAINT_KEY, value=TAINT_VALUE, effect="NoSchedule")
    capacity = dict(NODE_CAPACITY)
    if workload == "daemonset" and index == 0:
        capacity["pods"] = DAEMONSET_NODE_PODS
    node.status.capacity.update(capacity)
    node.status.allocatable.update(capacity)
    node.status.conditions.add(
        type="Ready",
        status="True",
        reason="KubeletReady",
        message="hollow node",
        last_heartbeat_time=now,
        last_transition_time=now,
    )
    node.status.node_info.kubelet_version = "hollow"
    return node


@dataclass(frozen=True)
class PodKind:
    """What a workload's i-th pod asks for."""

    node_selector: bool = False
    node_affinity: bool = False
    tolerates_taint: bool = False
    spread: bool = False
    unschedulable: bool = False
    preemptor: bool = False
    # Required node affinity on metadata.name: the first hollow node only (daemonset).
    pinned: bool = False


def pod_kind(workload: str, index: int) -> PodKind:
    if workload in ("basic", "unschedulable", "mixed-churn", "preemption-async"):
        return PodKind()
    if workload == "daemonset":
        return PodKind(pinned=True)
    if workload == "node-affinity":
        return PodKind(node_selector=index % 2 == 0, node_affinity=index % 2 == 1)
    if workload == "topology-spread":
        return PodKind(spread=True)
    if workload == "taints":
        return PodKind(tolerates_taint=index % 2 == 0)
    if workload == "preemption":
        return PodKind(preemptor=True)
    if workload == "mixed":
        slot = index % 10
        return PodKind(
            node_selector=slot == 6,
            node_affinity=slot == 7,
            tolerates_taint=slot == 8,
            spread=slot == 5,
            unschedulable=slot == 9,
        )
    raise ValueError(f"workload {workload!r}: expected one of {', '.join(WORKLOADS)}")


def preemption_split(nodes: int, pods: int, workload: str = "preemption") -> tuple[int, int]:
    """The low-priority pods (filling every node) and the measured pods among `pods` of the
    preemption workloads: one measured pod per node at most (a preemptor takes 3 cpu of a node's
    4; preemption-async keeps scheduler_perf's one measured pod per node)."""
    low = LOW_PODS_PER_NODE * nodes
    high = pods - low
    if not 1 <= high <= nodes:
        measured = "preemptors" if workload == "preemption" else "measured pods"
        raise ValueError(
            f"the {workload} workload needs {low} low-priority pods on {nodes} nodes and 1 to "
            f"{nodes} {measured}: --pods between {low + 1} and {low + nodes}, got {pods}"
        )
    return low, high


def low_priority_pod(name: str, namespace: str, run_id: str) -> core_pb2.Pod:
    """A pod the preemption workload fills the nodes with: no priority (0), 900m, and the
    default grace period, so that its preemption is a graceful deletion the hollow kubelet
    finishes (bench/scheduler/hollow_kubelet.py)."""
    return core_pb2.Pod(
        api_version="v1",
        kind="Pod",
        metadata=meta_pb2.ObjectMeta(name=name, namespace=namespace, labels={RUN_LABEL: run_id}),
        spec=core_pb2.PodSpec(containers=[_pause(LOW_PRIORITY_REQUESTS)]),
    )


def high_priority_pod(
    name: str, namespace: str, run_id: str, requests: dict[str, str]
) -> core_pb2.Pod:
    """A pod of priority 10 (its class's): preemption-async's preemptors (3000m) and
    mixed-churn's pod that fits nowhere (9 cpu)."""
    pod = core_pb2.Pod(
        api_version="v1",
        kind="Pod",
        metadata=meta_pb2.ObjectMeta(name=name, namespace=namespace, labels={RUN_LABEL: run_id}),
        spec=core_pb2.PodSpec(containers=[_pause(requests)], termination_grace_period_seconds=0),
    )
    pod.spec.priority_class_name = HIGH_PRIORITY_CLASS
    return pod


def unschedulable_init_pod(name: str, namespace: str, run_id: str) -> core_pb2.Pod:
    """One of the unschedulable workload's init pods: 9 cpu, more than any node has."""
    return core_pb2.Pod(
        api_version="v1",
        kind="Pod",
        metadata=meta_pb2.ObjectMeta(name=name, namespace=namespace, labels={RUN_LABEL: run_id}),
        spec=core_pb2.PodSpec(
            containers=[_pause(LARGE_CPU_REQUESTS)], termination_grace_period_seconds=0
        ),
    )


def _pause(requests: dict[str, str]) -> core_pb2.Container:
    return core_pb2.Container(
        name="pause",
        image="registry.k8s.io/pause:3.10",
        ports=[core_pb2.ContainerPort(container_port=80)],
        resources=core_pb2.ResourceRequirements(requests=requests, limits=requests),
    )


def expected_unschedulable(workload: str, pods: int) -> int:
    return sum(pod_kind(workload, i).unschedulable for i in range(pods))


def bench_pod(name: str, namespace: str, index: int, workload: str, run_id: str) -> core_pb2.Pod:
    kind = pod_kind(workload, index)
    labels = {RUN_LABEL: run_id}
    if kind.spread:
        labels[SPREAD_LABEL] = run_id
    # The daemonset's pods request nothing (daemonset-pod.yaml).
    requests = HIGH_PRIORITY_REQUESTS if kind.preemptor else {} if kind.pinned else POD_REQUESTS
    pod = core_pb2.Pod(
        api_version="v1",
        kind="Pod",
        metadata=meta_pb2.ObjectMeta(name=name, namespace=namespace, labels=labels),
        spec=core_pb2.PodSpec(containers=[_pause(requests)], termination_grace_period_seconds=0),
    )
    if kind.preemptor:
        pod.spec.priority_class_name = HIGH_PRIORITY_CLASS
    if kind.node_selector:
        pod.spec.node_selector[ZONE_LABEL] = AFFINITY_ZONES[0]
    if kind.node_affinity:
        affinity = pod.spec.affinity.node_affinity
        required = affinity.required_during_scheduling_ignored_during_execution
        term = required.node_selector_terms.add()
        term.match_expressions.add(key=ZONE_LABEL, operator="In", values=list(AFFINITY_ZONES))
    if kind.tolerates_taint:
        pod.spec.tolerations.add(
            key=TAINT_KEY, operator="Equal", value=TAINT_VALUE, effect="NoSchedule"
        )
    if kind.spread:
        constraint = pod.spec.topology_spread_constraints.add(
            max_skew=1, topology_key=ZONE_LABEL, when_unsatisfiable="DoNotSchedule"
        )
        constraint.label_selector.match_labels[SPREAD_LABEL] = run_id
    if kind.unschedulable:
        pod.spec.node_selector[MISSING_LABEL] = "true"
    if kind.pinned:  # as the DaemonSet controller pins its pods (its nodeShouldRunDaemonPod)
        affinity = pod.spec.affinity.node_affinity
        required = affinity.required_during_scheduling_ignored_during_execution
        term = required.node_selector_terms.add()
        term.match_fields.add(key="metadata.name", operator="In", values=[node_name(run_id, 0)])
    return pod


def fits(workload: str, pod_index: int, node_index: int) -> bool:
    """Whether the filters (not counting resources or spreading) admit the pod on the node: what
    the load test checks the bindings against."""
    kind = pod_kind(workload, pod_index)
    if kind.unschedulable:
        return False
    if kind.pinned and node_index != 0:
        return False
    if node_tainted(workload, node_index) and not kind.tolerates_taint:
        return False
    if kind.node_selector and zone_of(node_index) != AFFINITY_ZONES[0]:
        return False
    if kind.node_affinity and zone_of(node_index) not in AFFINITY_ZONES:
        return False
    return True


def max_zone_skew(counts_by_zone: dict[str, int]) -> int:
    """The largest difference between the zones' pod counts (every zone counted, empty ones too)."""
    counts = [counts_by_zone.get(f"zone-{z}", 0) for z in range(ZONES)]
    return max(counts) - min(counts)
