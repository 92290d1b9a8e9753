"""The policies' status controller (kube-controller-manager's
validatingadmissionpolicy-status-controller, pkg/controller/validatingadmissionpolicystatus), as
a loop of the apiserver over its policies' watch cache: a policy whose generation is past its
status.observedGeneration is type-checked (type_checking.py) and its status written through the
status subresource, observedGeneration and typeChecking.expressionWarnings, as the field manager
validatingadmissionpolicy-status. It runs in the apiserver, beside the policies' cache and the
kinds' schemas, where Kubernetes runs it in the controller-manager."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from apiserver.admission.policy.type_checking import KindsFor, SchemaType, check
from apiserver.registry.apiextensions.loop import DefinitionLoop
from apiserver.registry.generic.managed_fields import Manager
from podplane.api.admissionregistration.v1 import admissionregistration_pb2 as admreg_pb2
from podplane.apimachinery import codec

CONTROLLER_NAME = "validatingadmissionpolicy-status"
Policy = admreg_pb2.ValidatingAdmissionPolicy


class PolicyCache(Protocol):
    def peek(self, namespace: str, name: str) -> Policy | None: ...


class StatusWriter(Protocol):
    async def update_status(
        self, obj: Policy, cached: Policy | None = None, *, manager: Manager = ...
    ) -> Policy: ...


class PolicyStatusController:
    """A CacheObserver of the policies' cache: each change enqueues the policy's name."""

    def __init__(
        self,
        cache: PolicyCache,
        store: StatusWriter,
        kinds_for: KindsFor,
        schema_type: SchemaType,
    ) -> None:
        self.cache = cache
        self.store = store
        self.kinds_for = kinds_for
        self.schema_type = schema_type
        self.loop = DefinitionLoop(CONTROLLER_NAME, self.reconcile)

    def changed(self, prev: Policy | None, obj: Policy | None) -> None:
        if obj is not None:
            self.loop.enqueue(obj.metadata.name)

    def replaced(self, objects: Iterable[Policy]) -> None:
        for obj in objects:
            self.loop.enqueue(obj.metadata.name)

    async def run(self) -> None:
        await self.loop.run()

    async def reconcile(self, name: str) -> float | None:
        policy = self.cache.peek("", name)
        if policy is None or policy.metadata.generation <= policy.status.observed_generation:
            return None
        warnings = check(codec.encode(policy), self.kinds_for, self.schema_type)
        written = Policy()
        written.CopyFrom(policy)
        written.status.observed_generation = policy.metadata.generation
        written.status.type_checking.Clear()
        written.status.type_checking.SetInParent()
        for w in warnings:
            written.status.type_checking.expression_warnings.add(
                field_ref=str(w["fieldRef"]), warning=str(w["warning"])
            )
        await self.store.update_status(
            written, policy, manager=Manager(field_manager=CONTROLLER_NAME)
        )
        return None
