"""The admission plugins in order (k8s.io/apiserver/pkg/admission/chain.go): `admit` runs every
mutating plugin that handles the operation, in order, then `validate` every validating one, in
order; the first refusal stops the write. A plugin whose phase has a Scope is not called for
what it leaves out (interfaces.Scope): which plugins a kind of request calls is worked out once,
by its operation, the type of its object and whether it goes through a subresource."""

from __future__ import annotations

from typing import TypeVar

from apiserver.admission.attributes import Attributes, Operation
from apiserver.admission.interfaces import MutationInterface, Plugin, Scope, ValidationInterface

# A kind of request, as the plugins' scopes tell them apart.
_Kind = tuple[Operation, type, bool]
P = TypeVar("P", MutationInterface, ValidationInterface)


class AdmissionChain:
    def __init__(self, *plugins: Plugin) -> None:
        self.plugins = plugins
        self.mutating = tuple(p for p in plugins if isinstance(p, MutationInterface))
        self.validating = tuple(p for p in plugins if isinstance(p, ValidationInterface))
        self._admitting: dict[_Kind, tuple[MutationInterface, ...]] = {}
        self._validating: dict[_Kind, tuple[ValidationInterface, ...]] = {}

    def handles(self, operation: Operation) -> bool:
        """Whether any plugin handles the operation (the chain is a plugin too)."""
        return any(p.handles(operation) for p in self.plugins)

    async def admit(self, attrs: Attributes) -> None:
        for p in _called(self._admitting, self.mutating, "admit_scope", attrs):
            await p.admit(attrs)

    async def validate(self, attrs: Attributes) -> None:
        for p in _called(self._validating, self.validating, "validate_scope", attrs):
            await p.validate(attrs)


def _called(
    chosen: dict[_Kind, tuple[P, ...]], plugins: tuple[P, ...], scope: str, attrs: Attributes
) -> tuple[P, ...]:
    """The plugins of a phase a request calls, in order, worked out once per kind of request."""
    kind = _kind(attrs)
    found = chosen.get(kind)
    if found is None:
        found = chosen[kind] = tuple(p for p in plugins if _calls(p, getattr(p, scope, None), kind))
    return found


def _kind(attrs: Attributes) -> _Kind:
    return attrs.operation, type(attrs.object), bool(attrs.subresource)


def _calls(plugin: Plugin, scope: Scope | None, kind: _Kind) -> bool:
    operation, object_type, subresource = kind
    return plugin.handles(operation) and (scope is None or scope.covers(object_type, subresource))
