"""What the registry asks admission (k8s.io/apiserver/pkg/admission/interfaces.go): the store calls
these with the objects of a write and stores nothing a plugin refuses; a plugin refuses by raising
an APIError. Plugins and the chain implement them; the registry depends on these alone."""

from __future__ import annotations

from typing import Protocol

from google.protobuf.message import Message

from podplane.apimachinery.resources import Resource


class WriteAdmission(Protocol):
    """Admission of writes whose outcome depends on the object: called with the object created,
    the new and the stored object of an update (`subresource` names which: "", "status",
    "ephemeralcontainers"), and the stored object of a delete."""

    async def admit_create(self, obj: Message) -> None: ...

    def admit_update(self, subresource: str, new: Message, old: Message) -> None: ...

    def admit_delete(self, old: Message) -> None: ...


class NamespaceAdmission(Protocol):
    """Checks, before a namespaced object is created, that its namespace exists and is not
    terminating; `resource` names the object's kind in a refusal (else its message's)."""

    async def __call__(
        self, obj: Message, namespace: str, resource: Resource | None = None
    ) -> None: ...
