"""What the registry asks admission (k8s.io/apiserver/pkg/admission/interfaces.go): a plugin is
told of each write by its Attributes and refuses it by raising an APIError. A mutating plugin
(MutationInterface) may change the object in `admit`; a validating one (ValidationInterface)
only reads it in `validate`; a plugin is either or both, and says which operations it handles.
The registry admits every write twice through the chain: every plugin's `admit` before the
strategy's validation, every plugin's `validate` after it, before the write."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from google.protobuf.message import Message

from apiserver.admission.attributes import Attributes, Operation


@dataclass(frozen=True)
class Scope:
    """What one phase of a plugin acts on, when the plugin says (its `admit_scope` or
    `validate_scope`): objects of these types, through a subresource only with `subresources`.
    The chain does not call that phase for anything else: the plugin's own first check,
    `if attrs.subresource or not isinstance(attrs.object, Pod): return`, made once per kind of
    request instead of a call each (a Scheduled event passed a dozen pod and volume plugins,
    each a coroutine of its own)."""

    types: tuple[type[Message], ...]
    subresources: bool = False

    def covers(self, kind: type, subresource: bool) -> bool:
        return issubclass(kind, self.types) and (self.subresources or not subresource)


@runtime_checkable
class MutationInterface(Protocol):
    """A plugin that may change the object: it sees it before the strategy validates it."""

    def handles(self, operation: Operation) -> bool: ...

    async def admit(self, attrs: Attributes) -> None: ...


@runtime_checkable
class ValidationInterface(Protocol):
    """A plugin that only checks: it sees the object as it will be stored, after every
    mutating plugin and the strategy's validation."""

    def handles(self, operation: Operation) -> bool: ...

    async def validate(self, attrs: Attributes) -> None: ...


class Handler:
    """The operations a plugin handles (admission.Handler, made by admission.NewHandler)."""

    def __init__(self, *operations: Operation) -> None:
        self.operations = frozenset(operations)

    def handles(self, operation: Operation) -> bool:
        return operation in self.operations


# A plugin of the chain: mutating, validating or both.
Plugin = MutationInterface | ValidationInterface


class Admission(Protocol):
    """What the registry calls: the chain's two phases."""

    async def admit(self, attrs: Attributes) -> None: ...

    async def validate(self, attrs: Attributes) -> None: ...
