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
                   --pods counts both, 4 per node low and the rest high, at most one per node)."""

from __future__ import annotations

from dataclasses import dataclass

from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2

WORKLOADS = ("basic", "node-affinity", "topology-spread", "taints", "mixed", "preemption")

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
# Hollow nodes' podCIDRs come from 100.64.0.0/10, outside any cluster CIDR, so that the node IPAM
# controller neither hands them out nor runs out of subnets for real nodes.
_POD_CIDR_BASE = (100 << 24) | (64 << 16)
MAX_NODES = 1 << 14


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
    node.status.capacity.update(NODE_CAPACITY)
    node.status.allocatable.update(NODE_CAPACITY)
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


def pod_kind(workload: str, index: int) -> PodKind:
    if workload == "basic":
        return PodKind()
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


def preemption_split(nodes: int, pods: int) -> tuple[int, int]:
    """The preemption workload's low-priority pods (filling every node) and preemptors among
    `pods`: one preemptor per node at most, as each takes 3 cpu of a node's 4."""
    low = LOW_PODS_PER_NODE * nodes
    high = pods - low
    if not 1 <= high <= nodes:
        raise ValueError(
            f"the preemption workload needs {low} low-priority pods on {nodes} nodes and 1 to "
            f"{nodes} preemptors: --pods between {low + 1} and {low + nodes}, got {pods}"
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
    pod = core_pb2.Pod(
        api_version="v1",
        kind="Pod",
        metadata=meta_pb2.ObjectMeta(name=name, namespace=namespace, labels=labels),
        spec=core_pb2.PodSpec(
            containers=[_pause(HIGH_PRIORITY_REQUESTS if kind.preemptor else POD_REQUESTS)],
            termination_grace_period_seconds=0,
        ),
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
    return pod


def fits(workload: str, pod_index: int, node_index: int) -> bool:
    """Whether the filters (not counting resources or spreading) admit the pod on the node: what
    the load test checks the bindings against."""
    kind = pod_kind(workload, pod_index)
    if kind.unschedulable:
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
