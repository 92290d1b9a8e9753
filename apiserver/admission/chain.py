"""The admission plugins in order (k8s.io/apiserver/pkg/admission/chain.go): `admit` runs every
mutating plugin that handles the operation, in order, then `validate` every validating one, in
order; the first refusal stops the write."""

from __future__ import annotations

from apiserver.admission.attributes import Attributes, Operation
from apiserver.admission.interfaces import MutationInterface, Plugin, ValidationInterface


class AdmissionChain:
    def __init__(self, *plugins: Plugin) -> None:
        self.plugins = plugins
        self.mutating = tuple(p for p in plugins if isinstance(p, MutationInterface))
        self.validating = tuple(p for p in plugins if isinstance(p, ValidationInterface))

    def handles(self, operation: Operation) -> bool:
        """Whether any plugin handles the operation (the chain is a plugin too)."""
        return any(p.handles(operation) for p in self.plugins)

    async def admit(self, attrs: Attributes) -> None:
        for p in self.mutating:
            if p.handles(attrs.operation):
                await p.admit(attrs)

    async def validate(self, attrs: Attributes) -> None:
        for p in self.validating:
            if p.handles(attrs.operation):
                await p.validate(attrs)
