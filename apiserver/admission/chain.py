"""Admission of writes whose outcome depends on the object (k8s.io/apiserver/pkg/admission): the
store calls it with the object created, the new and the stored object of an update, and the stored
object of a delete; a plugin refuses by raising an APIError."""
from __future__ import annotations

from typing import Any, Protocol


class WriteAdmission(Protocol):
    async def admit_create(self, obj: Any) -> None: ...

    def admit_update(self, subresource: str, new: Any, old: Any) -> None: ...

    def admit_delete(self, old: Any) -> None: ...


class AdmissionChain:
    """The plugins in order; the first refusal stops the write."""

    def __init__(self, *plugins: WriteAdmission) -> None:
        self.plugins = plugins

    async def admit_create(self, obj: Any) -> None:
        for p in self.plugins:
            await p.admit_create(obj)

    def admit_update(self, subresource: str, new: Any, old: Any) -> None:
        for p in self.plugins:
            p.admit_update(subresource, new, old)

    def admit_delete(self, old: Any) -> None:
        for p in self.plugins:
            p.admit_delete(old)
