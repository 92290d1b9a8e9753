"""Priority (kubernetes plugin/pkg/admission/priority): a pod created gets its priority and
preemption policy from its priorityClassName, or from the global default class (whose name it
then takes), else priority 0 and PreemptLowerPriority; a class that does not exist, or a priority
or policy the pod sets itself that differs from its class's, is refused. A PriorityClass may be
the global default only while no other one is.

Pods with system-node-critical or system-cluster-critical may be created in any namespace, as in
Kubernetes since 1.17 (limiting them to some namespaces is ResourceQuota admission's, configured
by the cluster's admin). An update keeps the priority and policy the pod was admitted with
(the plugin's mutating half of a pod's update, before validation, which refuses any change)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from apiserver import errors
from apiserver.admission.attributes import CREATE, UPDATE, Attributes, refused_name
from apiserver.admission.interfaces import Handler, Scope
from apiserver.admission.lookups import ClusterObjects
from podplane.api.core.v1 import core_pb2
from podplane.api.scheduling.v1 import scheduling_pb2
from podplane.apimachinery import priority, resources

NAME = "Priority"


@dataclass(frozen=True)
class _Resolved:
    class_name: str
    value: int
    preemption_policy: str | None


def _policy(pc: scheduling_pb2.PriorityClass) -> str | None:
    return pc.preemption_policy if pc.HasField("preemption_policy") else None


def default_class(
    classes: Iterable[scheduling_pb2.PriorityClass],
) -> scheduling_pb2.PriorityClass | None:
    """The global default class; of several (two made at once), the one of lowest value."""
    defaults = [pc for pc in classes if pc.global_default]
    return min(defaults, key=lambda pc: pc.value, default=None)


def keep_admitted_priority(new: core_pb2.Pod, old: core_pb2.Pod) -> None:
    """A pod update that leaves out the priority or preemption policy keeps the stored ones."""
    if not new.spec.HasField("priority") and old.spec.HasField("priority"):
        new.spec.priority = old.spec.priority
    if not new.spec.HasField("preemption_policy") and old.spec.HasField("preemption_policy"):
        new.spec.preemption_policy = old.spec.preemption_policy


class PriorityAdmission(Handler):
    """Mutating (a pod's priority from its class, on create) and validating (one default
    PriorityClass, on create and update)."""

    admit_scope = Scope((core_pb2.Pod,))
    validate_scope = Scope((scheduling_pb2.PriorityClass,))

    def __init__(self, classes: ClusterObjects[scheduling_pb2.PriorityClass]) -> None:
        super().__init__(CREATE, UPDATE)
        self._classes = classes

    async def admit(self, attrs: Attributes) -> None:
        """A pod created gets its class's priority; a pod updated keeps the one it was admitted
        with (validation then refuses any change)."""
        pod = attrs.object
        if attrs.subresource or not isinstance(pod, core_pb2.Pod):
            return
        if attrs.operation == CREATE:
            await self._admit_pod(pod)
        elif isinstance(attrs.old_object, core_pb2.Pod):
            keep_admitted_priority(pod, attrs.old_object)

    async def validate(self, attrs: Attributes) -> None:
        pc = attrs.object
        if not attrs.subresource and isinstance(pc, scheduling_pb2.PriorityClass):
            self._check_single_default(pc, creating=attrs.operation == CREATE)

    async def _resolve(self, pod: core_pb2.Pod) -> _Resolved:
        name = pod.spec.priority_class_name
        if not name:
            default = default_class(self._classes.cached())
            if default is None:
                return _Resolved(
                    "",
                    priority.DEFAULT_PRIORITY_WHEN_NO_DEFAULT_CLASS_EXISTS,
                    priority.PREEMPT_LOWER_PRIORITY,
                )
            return _Resolved(default.metadata.name, default.value, _policy(default))
        pc = await self._classes.lookup(name)
        if pc is None:
            raise errors.forbidden(
                resources.POD, refused_name(pod), f"no PriorityClass with name {name} was found"
            )
        return _Resolved(name, pc.value, _policy(pc))

    async def _admit_pod(self, pod: core_pb2.Pod) -> None:
        resolved = await self._resolve(pod)
        spec = pod.spec
        spec.priority_class_name = resolved.class_name
        if spec.HasField("priority") and spec.priority != resolved.value:
            raise errors.forbidden(
                resources.POD,
                refused_name(pod),
                f"the integer value of priority ({spec.priority}) must not be provided in pod "
                f"spec; priority admission controller computed {resolved.value} from the given "
                "PriorityClass name",
            )
        spec.priority = resolved.value
        policy = resolved.preemption_policy
        if policy is None:
            return
        if spec.HasField("preemption_policy") and spec.preemption_policy != policy:
            raise errors.forbidden(
                resources.POD,
                refused_name(pod),
                f"the string value of PreemptionPolicy ({spec.preemption_policy}) must not be "
                f"provided in pod spec; priority admission controller computed {policy} from "
                "the given PriorityClass name",
            )
        spec.preemption_policy = policy

    def _check_single_default(self, pc: scheduling_pb2.PriorityClass, *, creating: bool) -> None:
        if not pc.global_default:
            return
        default = default_class(self._classes.cached())
        if default is None or (not creating and default.metadata.name == pc.metadata.name):
            return
        raise errors.forbidden(
            resources.PRIORITY_CLASS,
            pc.metadata.name,
            f"PriorityClass {default.metadata.name} is already marked as default. "
            "Only one default can exist",
        )
