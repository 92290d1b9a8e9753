"""A plugin phase's Scope (apiserver/admission/interfaces.py): the chain calls it only for the
object types it names, and through a subresource only when it says so; and each real plugin
that has a scope does nothing for what its scope leaves out, so leaving it uncalled changes
nothing (its own first check says the same)."""

from __future__ import annotations

from typing import Any

import pytest
from google.protobuf.message import Message

from apiserver.admission.attributes import CREATE, UPDATE, Attributes, for_create, for_update
from apiserver.admission.certificates import (
    CSR,
    CertificateApproval,
    CertificateSigning,
    CertificateSubjectRestriction,
)
from apiserver.admission.chain import AdmissionChain
from apiserver.admission.default_ingress_class import DefaultIngressClass
from apiserver.admission.default_storage_class import DefaultStorageClass
from apiserver.admission.default_toleration_seconds import DefaultTolerationSeconds
from apiserver.admission.interfaces import Handler, Scope
from apiserver.admission.limit_ranger import LimitRanger
from apiserver.admission.pod_security import PodSecurity
from apiserver.admission.priority import PriorityAdmission
from apiserver.admission.runtime_class import RuntimeClassAdmission
from apiserver.admission.service_account import ServiceAccountAdmission
from apiserver.admission.storage_object_in_use_protection import StorageObjectInUseProtection
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import resources


class Called(Handler):
    def __init__(self, seen: list[str]) -> None:
        super().__init__(CREATE, UPDATE)
        self.seen = seen

    async def admit(self, attrs: Attributes) -> None:
        self.seen.append(f"admit {type(attrs.object).__name__} {attrs.subresource}".strip())

    async def validate(self, attrs: Attributes) -> None:
        self.seen.append(f"validate {type(attrs.object).__name__} {attrs.subresource}".strip())


class PodsOnly(Called):
    admit_scope = Scope((core_pb2.Pod,))
    validate_scope = Scope((core_pb2.Pod,), subresources=True)


def pod(name: str = "p") -> core_pb2.Pod:
    return core_pb2.Pod(metadata=meta_pb2.ObjectMeta(name=name, namespace="default"))


def event() -> core_pb2.Event:
    return core_pb2.Event(metadata=meta_pb2.ObjectMeta(name="p.17a", namespace="default"))


async def both(chain: AdmissionChain, attrs: Attributes) -> None:
    await chain.admit(attrs)
    await chain.validate(attrs)


async def test_the_chain_calls_a_scoped_phase_only_for_what_it_covers() -> None:
    seen: list[str] = []
    unscoped: list[str] = []
    chain = AdmissionChain(PodsOnly(seen), Called(unscoped))
    await both(chain, for_create(resources.POD, pod(), dry_run=False))
    await both(chain, for_create(resources.EVENT, event(), dry_run=False))
    status = for_update(resources.POD, pod(), pod(), subresource="status", dry_run=False)
    await both(chain, status)
    await both(chain, for_create(resources.POD, pod("q"), dry_run=False))  # decided once
    assert seen == ["admit Pod", "validate Pod", "validate Pod status", "admit Pod", "validate Pod"]
    assert len(unscoped) == 8  # every request, both phases


async def test_the_chain_still_asks_which_operations_a_plugin_handles() -> None:
    seen: list[str] = []
    creates_only = PodsOnly(seen)
    creates_only.operations = frozenset({CREATE})
    chain = AdmissionChain(creates_only)
    await both(chain, for_update(resources.POD, pod(), pod(), subresource="", dry_run=False))
    assert seen == []
    await both(chain, for_create(resources.POD, pod(), dry_run=False))
    assert seen == ["admit Pod", "validate Pod"]


class Untouchable:
    """A plugin's lookups, none of which a request outside its scope may reach."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"looked up {name} for a request outside the plugin's scope")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("looked something up for a request outside the plugin's scope")


def scoped_plugins() -> list[Handler]:
    boom: Any = Untouchable()
    return [
        PriorityAdmission(boom),
        DefaultTolerationSeconds(),
        RuntimeClassAdmission(boom),
        DefaultIngressClass(boom),
        DefaultStorageClass(boom),
        StorageObjectInUseProtection(),
        ServiceAccountAdmission(boom, boom),
        PodSecurity(boom),
        LimitRanger(boom, boom),
        CertificateApproval(boom),
        CertificateSigning(boom),
        CertificateSubjectRestriction(),
    ]


# An object of every type some scope names, as a request would carry it.
IN_SCOPES: list[Message] = [
    pod(),
    core_pb2.PersistentVolumeClaim(metadata=meta_pb2.ObjectMeta(name="c", namespace="default")),
    core_pb2.PersistentVolume(metadata=meta_pb2.ObjectMeta(name="v")),
    CSR(metadata=meta_pb2.ObjectMeta(name="csr")),
]


def outside(scope: Scope) -> list[Attributes]:
    """Requests the scope leaves out: an event's create and update, and for a scope of the main
    resource only, its own types through a subresource."""
    out = [
        for_create(resources.EVENT, event(), dry_run=False),
        for_update(resources.EVENT, event(), event(), subresource="", dry_run=False),
    ]
    for obj in IN_SCOPES:
        if not isinstance(obj, scope.types):
            resource = resources.by_message(obj)
            out.append(for_create(resource, obj, dry_run=False))
        elif not scope.subresources:
            resource = resources.by_message(obj)
            out.append(for_update(resource, obj, obj, subresource="status", dry_run=False))
            out.append(for_create(resource, obj, dry_run=False, subresource="binding"))
    return out


@pytest.mark.parametrize("plugin", scoped_plugins(), ids=lambda p: type(p).__name__)
async def test_a_plugin_does_nothing_outside_its_scope(plugin: Handler) -> None:
    phases = [
        (getattr(plugin, name + "_scope", None), getattr(plugin, name, None))
        for name in ("admit", "validate")
    ]
    checked = 0
    for scope, phase in phases:
        if scope is None or phase is None:
            continue
        for attrs in outside(scope):
            before = attrs.object.SerializeToString() if attrs.object is not None else b""
            await phase(attrs)
            assert attrs.object is not None and attrs.object.SerializeToString() == before
            checked += 1
    assert checked
