"""The admission chain: kube-apiserver's order, the validating-only plugins after every one that
changes the object, and only the optional plugins may be turned off."""

from __future__ import annotations

import pytest
from google.protobuf.message import Message

from apiserver.admission import plugins
from podplane.api.core.v1 import core_pb2


class Recorder:
    """A plugin that notes, in a shared list, that it saw the create."""

    def __init__(self, name: str, seen: list[str]) -> None:
        self.name = name
        self.seen = seen

    async def admit_create(self, obj: Message) -> None:
        self.seen.append(self.name)

    def admit_update(self, subresource: str, new: Message, old: Message) -> None:
        pass

    def admit_delete(self, old: Message) -> None:
        pass


async def _order(names: list[str], disabled: frozenset[str] = frozenset()) -> list[str]:
    seen: list[str] = []
    chain = plugins.ordered_chain(
        {n: Recorder(n, seen) for n in names}, disabled, Recorder("escalation", seen)
    )
    await chain.admit_create(core_pb2.Pod())
    return seen


async def test_kube_apiservers_order_whatever_the_order_given() -> None:
    assert await _order(list(reversed(plugins.ORDER))) == [
        "NamespaceLifecycle",
        "ServiceAccount",
        "Priority",
        "DefaultStorageClass",
        "StorageObjectInUseProtection",
        "RuntimeClass",
        "NodeRestriction",
        "PodSecurity",
        "CertificateApproval",
        "CertificateSigning",
        "CertificateSubjectRestriction",
        "escalation",
    ]


async def test_optional_plugins_may_be_turned_off() -> None:
    off = frozenset({"Priority", "RuntimeClass", "ServiceAccount"})
    assert off == set(plugins.OPTIONAL)
    assert await _order(list(plugins.ORDER), off) == [
        "NamespaceLifecycle",
        "DefaultStorageClass",
        "StorageObjectInUseProtection",
        "NodeRestriction",
        "PodSecurity",
        "CertificateApproval",
        "CertificateSigning",
        "CertificateSubjectRestriction",
        "escalation",
    ]


@pytest.mark.parametrize(
    "names, disabled, error",
    [
        (
            ["NamespaceLifecycle", "AlwaysPullImages"],
            frozenset(),
            "no place in the admission order",
        ),
        (["PodSecurity"], frozenset({"PodSecurity"}), "cannot be disabled"),
    ],
)
async def test_unknown_plugins_and_required_ones_turned_off_are_refused(
    names: list[str], disabled: frozenset[str], error: str
) -> None:
    with pytest.raises(ValueError, match=error):
        await _order(names, disabled)
