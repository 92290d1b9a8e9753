"""What the registry asks admission (k8s.io/apiserver/pkg/admission/interfaces.go): the store calls
these with the objects of a write and stores nothing a plugin refuses; a plugin refuses by raising
an APIError. Plugins and the chain implement them; the registry depends on these alone."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from google.protobuf.message import Message


class WriteAdmission(Protocol):
    """Admission of writes whose outcome depends on the object: called with the object created,
    the new and the stored object of an update (`subresource` names which: "", "status",
    "ephemeralcontainers"), and the stored object of a delete."""

    async def admit_create(self, obj: Message) -> None: ...

    def admit_update(self, subresource: str, new: Message, old: Message) -> None: ...

    def admit_delete(self, old: Message) -> None: ...


# Checks, before a namespaced object is created, that its namespace (the second argument) exists
# and is not terminating.
NamespaceAdmission = Callable[[Message, str], Awaitable[None]]
