"""The write admission plugins in order (k8s.io/apiserver/pkg/admission/chain.go): the first
refusal stops the write."""

from __future__ import annotations

from google.protobuf.message import Message

from apiserver.admission.interfaces import WriteAdmission


class AdmissionChain:
    def __init__(self, *plugins: WriteAdmission) -> None:
        self.plugins = plugins

    async def admit_create(self, obj: Message) -> None:
        for p in self.plugins:
            await p.admit_create(obj)

    def admit_update(self, subresource: str, new: Message, old: Message) -> None:
        for p in self.plugins:
            p.admit_update(subresource, new, old)

    def admit_delete(self, old: Message) -> None:
        for p in self.plugins:
            p.admit_delete(old)
