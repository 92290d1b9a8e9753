"""How many pods a PodDisruptionBudget expects and how many of them must be healthy (kubernetes
pkg/controller/disruption getExpectedPodCount, getExpectedScale and its controller finders).

An integer minAvailable counts the pods the budget selects. A percentage, and maxUnavailable, are
of the pods the selected pods' controllers want: the sum of the scale of each controller
(ReplicationController, Deployment through its ReplicaSet, ReplicaSet, StatefulSet), read from
the informers. A selected pod without a controller is unmanaged (reported, not counted); one
whose controller is not found, or is of a kind without a scale, makes the budget's status
impossible to compute."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from controller.framework.controller_ref import controller_of
from podplane.api.apps.v1 import apps_pb2
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.api.policy.v1 import policy_pb2
from podplane.apimachinery import resources

# What a finder answers for a controller reference: its uid and scale, or None if it is not
# this finder's kind (or not found).
Found = tuple[str, int] | None
Getter = Callable[[str], object | None]  # an informer's get(namespace/name)
# Kinds with a scale subresource: a pod of one the informers do not show is not an error of its
# kind, only of the controller missing.
_SCALABLE = frozenset({"replicationcontrollers", "replicasets", "deployments", "statefulsets"})


class ExpectedCountError(Exception):
    """The budget's expected pods cannot be computed (SyncFailed)."""


@dataclass(frozen=True)
class Expected:
    expected_pods: int
    desired_healthy: int
    # Names of selected pods no controller manages.
    unmanaged: tuple[str, ...] = ()


def _replicas(obj: object) -> int:
    """spec.replicas, 1 when unset (every workload's default)."""
    spec = getattr(obj, "spec")  # noqa: B009 - every workload message has one
    return int(spec.replicas) if spec.HasField("replicas") else 1


def _group(api_version: str) -> str:
    return api_version.rpartition("/")[0] if "/" in api_version else ""


def scaled_value(value: str, total: int) -> int:
    """intstr.GetScaledValueFromIntOrPercent, rounding up."""
    if value.endswith("%"):
        return math.ceil(int(value[:-1]) * total / 100)
    return int(value)


@dataclass(frozen=True)
class ControllerScales:
    """The finders over the informers' caches (get by namespace/name)."""

    replication_controllers: Getter
    replica_sets: Getter
    deployments: Getter
    stateful_sets: Getter

    def _get(self, getter: Getter, namespace: str, ref: meta_pb2.OwnerReference) -> object | None:
        obj = getter(f"{namespace}/{ref.name}")
        uid = getattr(getattr(obj, "metadata", None), "uid", None)
        return obj if obj is not None and uid == ref.uid else None

    def _replication_controller(self, ref: meta_pb2.OwnerReference, ns: str) -> Found:
        if ref.kind != "ReplicationController" or _group(ref.api_version) != "":
            return None
        rc = self._get(self.replication_controllers, ns, ref)
        return None if rc is None else (ref.uid, _replicas(rc))

    def _replica_set(self, ref: meta_pb2.OwnerReference, ns: str) -> apps_pb2.ReplicaSet | None:
        if ref.kind != "ReplicaSet" or _group(ref.api_version) not in ("apps", "extensions"):
            return None
        rs = self._get(self.replica_sets, ns, ref)
        return rs if isinstance(rs, apps_pb2.ReplicaSet) else None

    def _deployment(self, ref: meta_pb2.OwnerReference, ns: str) -> Found:
        rs = self._replica_set(ref, ns)
        owner = None if rs is None else controller_of(rs)
        if owner is None or owner.kind != "Deployment":
            return None
        if _group(owner.api_version) not in ("apps", "extensions"):
            return None
        deployment = self._get(self.deployments, ns, owner)
        return None if deployment is None else (owner.uid, _replicas(deployment))

    def _bare_replica_set(self, ref: meta_pb2.OwnerReference, ns: str) -> Found:
        rs = self._replica_set(ref, ns)
        if rs is None:
            return None
        owner = controller_of(rs)
        if owner is not None and owner.kind == "Deployment":
            return None  # counted as its deployment's
        return ref.uid, _replicas(rs)

    def _stateful_set(self, ref: meta_pb2.OwnerReference, ns: str) -> Found:
        if ref.kind != "StatefulSet" or _group(ref.api_version) != "apps":
            return None
        ss = self._get(self.stateful_sets, ns, ref)
        return None if ss is None else (ref.uid, _replicas(ss))

    def scale_of(self, ref: meta_pb2.OwnerReference, namespace: str) -> Found:
        """The controller's uid and scale, by the finders in Kubernetes' order; None when no
        finder knows it. A kind the API does not serve, or serves without a scale, is an error."""
        for finder in (
            self._replication_controller,
            self._deployment,
            self._bare_replica_set,
            self._stateful_set,
        ):
            found = finder(ref, namespace)
            if found is not None:
                return found
        group = _group(ref.api_version)
        kind = next(
            (r for r in resources.ALL if r.kind == ref.kind and _group(r.api_version) == group),
            None,
        )
        if kind is None:
            raise ExpectedCountError(
                f'no matches for kind "{ref.kind}" in version "{ref.api_version}"'
            )
        if kind.plural not in _SCALABLE:
            qualified = f"{kind.plural}.{group}" if group else kind.plural
            raise ExpectedCountError(f"{qualified} does not implement the scale subresource")
        return None


def expected_scale(
    pods: Sequence[core_pb2.Pod], scales: ControllerScales
) -> tuple[int, tuple[str, ...]]:
    """The sum of the scales of the pods' controllers, each counted once, and the unmanaged
    pods (getExpectedScale)."""
    by_uid: dict[str, int] = {}
    unmanaged: list[str] = []
    for pod in pods:
        ref = controller_of(pod)
        if ref is None:
            unmanaged.append(pod.metadata.name)
            continue
        if ref.uid in by_uid:
            continue
        found = scales.scale_of(ref, pod.metadata.namespace)
        if found is None:
            # Go's %q of a pod name (a DNS subdomain: nothing to escape).
            raise ExpectedCountError(f'found no controllers for pod "{pod.metadata.name}"')
        by_uid[found[0]] = found[1]
    return sum(by_uid.values()), tuple(unmanaged)


def expected_pod_count(
    pdb: policy_pb2.PodDisruptionBudget,
    pods: Sequence[core_pb2.Pod],
    scales: ControllerScales,
) -> Expected:
    """getExpectedPodCount: the pods expected and the healthy ones the budget wants."""
    spec = pdb.spec
    if spec.HasField("max_unavailable"):
        expected, unmanaged = expected_scale(pods, scales)
        unavailable = scaled_value(spec.max_unavailable, expected)
        return Expected(expected, max(expected - unavailable, 0), unmanaged)
    if spec.HasField("min_available"):
        if not spec.min_available.endswith("%"):
            return Expected(len(pods), int(spec.min_available))
        expected, unmanaged = expected_scale(pods, scales)
        return Expected(expected, scaled_value(spec.min_available, expected), unmanaged)
    return Expected(0, 0)
