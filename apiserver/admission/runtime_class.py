"""RuntimeClass (kubernetes plugin/pkg/admission/runtimeclass): a pod created with a
runtimeClassName gets its class's overhead as spec.overhead, its scheduling's node selector merged
into its own (a key both set to different values is refused) and its tolerations added. A class
that does not exist is refused, as is a pod whose own overhead differs from its class's, or that
sets an overhead its class has none of (only this plugin sets it)."""

from __future__ import annotations

from collections.abc import Mapping

from apiserver import errors
from apiserver.admission.attributes import CREATE, Attributes, refused_name
from apiserver.admission.interfaces import Handler, Scope
from apiserver.admission.lookups import ClusterObjects
from apiserver.admission.tolerations import merge_tolerations
from apiserver.validation.fields import go_quote
from podplane.api.core.v1 import core_pb2
from podplane.api.node.v1 import node_pb2
from podplane.apimachinery import quantity, resources

NAME = "RuntimeClass"
_MISMATCH = "pod rejected: Pod's Overhead doesn't match RuntimeClass's defined Overhead"
_WITHOUT_CLASS = (
    "pod rejected: Pod Overhead set without corresponding RuntimeClass defined Overhead"
)


def same_quantities(a: Mapping[str, str], b: Mapping[str, str]) -> bool:
    """Equal resource lists, quantities compared by value ("1" is "1000m")."""
    if a.keys() != b.keys():
        return False
    try:
        return all(quantity.parse(a[k]) == quantity.parse(b[k]) for k in a)
    except quantity.QuantityError:
        return dict(a) == dict(b)


def _refused(pod: core_pb2.Pod, reason: str) -> errors.APIError:
    return errors.forbidden(resources.POD, refused_name(pod), reason)


def set_overhead(pod: core_pb2.Pod, rc: node_pb2.RuntimeClass | None) -> None:
    if rc is None or not rc.HasField("overhead"):
        return
    fixed = rc.overhead.pod_fixed
    if pod.spec.overhead and not same_quantities(fixed, pod.spec.overhead):
        raise _refused(pod, _MISMATCH)
    pod.spec.overhead.clear()
    pod.spec.overhead.update(fixed)


def set_scheduling(pod: core_pb2.Pod, rc: node_pb2.RuntimeClass | None) -> None:
    if rc is None or not rc.HasField("scheduling"):
        return
    selector = pod.spec.node_selector
    for key, wanted in sorted(rc.scheduling.node_selector.items()):
        if key in selector and selector[key] != wanted:
            raise _refused(
                pod,
                f"conflict: runtimeClass.scheduling.nodeSelector[{key}] = {wanted}; "
                f"pod.spec.nodeSelector[{key}] = {selector[key]}",
            )
        selector[key] = wanted
    merged = merge_tolerations(list(pod.spec.tolerations), list(rc.scheduling.tolerations))
    del pod.spec.tolerations[:]
    pod.spec.tolerations.extend(merged)


def validate_overhead(pod: core_pb2.Pod, rc: node_pb2.RuntimeClass | None) -> None:
    if rc is not None and rc.HasField("overhead"):
        if not same_quantities(rc.overhead.pod_fixed, pod.spec.overhead):
            raise _refused(pod, _MISMATCH)
    elif pod.spec.overhead:
        raise _refused(pod, _WITHOUT_CLASS)


class RuntimeClassAdmission(Handler):
    """Mutating (the class's overhead and scheduling set) and validating (the overhead checked
    against the class's), of pod creates; both halves look the class up, as Kubernetes'
    prepareObjects does."""

    admit_scope = validate_scope = Scope((core_pb2.Pod,))

    def __init__(self, classes: ClusterObjects[node_pb2.RuntimeClass]) -> None:
        super().__init__(CREATE)
        self._classes = classes

    async def admit(self, attrs: Attributes) -> None:
        pod = attrs.object
        if attrs.subresource or not isinstance(pod, core_pb2.Pod):
            return
        rc = await self._runtime_class(pod)
        set_overhead(pod, rc)
        set_scheduling(pod, rc)

    async def validate(self, attrs: Attributes) -> None:
        pod = attrs.object
        if attrs.subresource or not isinstance(pod, core_pb2.Pod):
            return
        validate_overhead(pod, await self._runtime_class(pod))

    async def _runtime_class(self, pod: core_pb2.Pod) -> node_pb2.RuntimeClass | None:
        """The pod's class, None if it names none; refused if it does not exist."""
        if not pod.spec.HasField("runtime_class_name"):
            return None
        name = pod.spec.runtime_class_name
        rc = await self._classes.lookup(name)
        if rc is None:
            raise _refused(pod, f"pod rejected: RuntimeClass {go_quote(name)} not found")
        return rc
