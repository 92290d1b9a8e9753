"""Which nodes run a DaemonSet's pod, and the pod made for a node (kubernetes
pkg/controller/daemon NodeShouldRunDaemonPod, NewPod, and util/daemonset_util.go): a node runs
it when the template's nodeName, node selector and required node affinity take the node and its
NoSchedule and NoExecute taints are tolerated (with the tolerations the controller adds to every
daemon pod); a pod already there keeps running while every NoExecute taint is tolerated. Whether
the node is cordoned does not matter (daemon pods tolerate node.kubernetes.io/unschedulable).
A daemon pod is bound by the default scheduler, steered by a required node affinity for its
node's name."""

from __future__ import annotations

from podplane.api.apps.v1 import apps_pb2
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery.node_affinity import OBJECT_NAME_FIELD, required_matches
from podplane.apimachinery.tolerations import first_untolerated

NO_SCHEDULE = "NoSchedule"
NO_EXECUTE = "NoExecute"
# The tolerations every daemon pod gets (AddOrUpdateDaemonPodTolerations): node problems never
# evict it, and the conditions that keep other pods off a node do not keep it off.
DAEMON_TOLERATIONS = (
    ("node.kubernetes.io/not-ready", NO_EXECUTE),
    ("node.kubernetes.io/unreachable", NO_EXECUTE),
    ("node.kubernetes.io/disk-pressure", NO_SCHEDULE),
    ("node.kubernetes.io/memory-pressure", NO_SCHEDULE),
    ("node.kubernetes.io/pid-pressure", NO_SCHEDULE),
    ("node.kubernetes.io/unschedulable", NO_SCHEDULE),
)
# Added for pods on the host's network, which need no pod network.
NETWORK_UNAVAILABLE = ("node.kubernetes.io/network-unavailable", NO_SCHEDULE)


def _same_toleration(a: core_pb2.Toleration, b: core_pb2.Toleration) -> bool:
    """Toleration.MatchToleration: the same key, operator, value and effect."""
    return (a.key, a.operator, a.value, a.effect) == (b.key, b.operator, b.value, b.effect)


def add_or_update_toleration(spec: core_pb2.PodSpec, toleration: core_pb2.Toleration) -> None:
    """AddOrUpdateTolerationInPodSpec: replaces a toleration of the same key, operator, value
    and effect (dropping its tolerationSeconds), else appends it."""
    for i, t in enumerate(spec.tolerations):
        if _same_toleration(t, toleration):
            spec.tolerations[i].CopyFrom(toleration)
            return
    spec.tolerations.append(toleration)


def add_daemon_tolerations(spec: core_pb2.PodSpec) -> None:
    wanted = list(DAEMON_TOLERATIONS)
    if spec.host_network:
        wanted.append(NETWORK_UNAVAILABLE)
    for key, effect in wanted:
        add_or_update_toleration(
            spec, core_pb2.Toleration(key=key, operator="Exists", effect=effect)
        )


def pod_for_node(ds: apps_pb2.DaemonSet, node_name: str) -> core_pb2.Pod:
    """NewPod: the template as a pod on the node, with the daemon tolerations (what the node is
    judged against; not the pod created)."""
    pod = core_pb2.Pod()
    pod.metadata.CopyFrom(ds.spec.template.metadata)
    pod.metadata.namespace = ds.metadata.namespace
    pod.spec.CopyFrom(ds.spec.template.spec)
    pod.spec.node_name = node_name
    add_daemon_tolerations(pod.spec)
    return pod


def should_run(node: core_pb2.Node, ds: apps_pb2.DaemonSet) -> tuple[bool, bool]:
    """NodeShouldRunDaemonPod: (whether a daemon pod should start on the node, whether one
    already there should keep running)."""
    template_node = ds.spec.template.spec.node_name
    if template_node and template_node != node.metadata.name:
        return False, False
    pod = pod_for_node(ds, node.metadata.name)
    if not required_matches(pod, node):
        return False, False
    taints = node.spec.taints
    if first_untolerated(taints, pod.spec.tolerations, (NO_SCHEDULE, NO_EXECUTE)) is None:
        return True, True
    # Scheduled daemon pods keep running while they tolerate every NoExecute taint.
    return False, first_untolerated(taints, pod.spec.tolerations, (NO_EXECUTE,)) is None


def set_node_affinity(spec: core_pb2.PodSpec, node_name: str) -> None:
    """ReplaceDaemonSetPodNodeNameNodeAffinity: the required node affinity becomes the one term
    metadata.name In [node] (the template's other required terms are replaced: the node was
    chosen against them); preferred terms stay."""
    required = spec.affinity.node_affinity.required_during_scheduling_ignored_during_execution
    del required.node_selector_terms[:]
    term = required.node_selector_terms.add()
    term.match_fields.add(key=OBJECT_NAME_FIELD, operator="In", values=[node_name])


def target_node(pod: core_pb2.Pod) -> str | None:
    """GetTargetNodeName: the node the pod is bound to, or, while it waits for the scheduler,
    the one its node affinity names; None for neither."""
    if pod.spec.node_name:
        return str(pod.spec.node_name)
    affinity = pod.spec.affinity.node_affinity
    if not affinity.HasField("required_during_scheduling_ignored_during_execution"):
        return None
    for term in affinity.required_during_scheduling_ignored_during_execution.node_selector_terms:
        for req in term.match_fields:
            if req.key == OBJECT_NAME_FIELD and req.operator == "In":
                return str(req.values[0]) if len(req.values) == 1 else None
    return None


def _true_conditions(node: core_pb2.Node) -> set[str]:
    return {c.type for c in node.status.conditions if c.status == "True"}


def node_change_matters(old: core_pb2.Node, new: core_pb2.Node) -> bool:
    """Not shouldIgnoreNodeUpdate: a node update matters unless only its resourceVersion, its
    conditions' details and its managed fields changed (a kubelet's heartbeats, which restamp
    the kubelet's entry in metadata.managedFields), the same conditions being true."""
    if _true_conditions(old) != _true_conditions(new):
        return True
    a, b = core_pb2.Node(), core_pb2.Node()
    a.CopyFrom(old)
    b.CopyFrom(new)
    for n in (a, b):
        n.metadata.resource_version = ""
        n.metadata.ClearField("managed_fields")
        del n.status.conditions[:]
    return bool(a != b)
