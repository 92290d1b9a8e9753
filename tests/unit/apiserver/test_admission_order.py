"""The admission chain (k8s.io/apiserver/pkg/admission/chain.go): kube-apiserver's order, every
mutating plugin's `admit` before any validating plugin's `validate`, each only for the operations
it handles; the places of the webhooks and ResourceQuota at the end; only the optional plugins
may be turned off."""

from __future__ import annotations

import pytest

from apiserver.admission import plugins
from apiserver.admission.attributes import CREATE, DELETE, UPDATE, Attributes, Operation
from apiserver.admission.chain import AdmissionChain
from apiserver.admission.interfaces import Handler, Plugin
from podplane.api.core.v1 import core_pb2
from tests.unit.apiserver.admission_calls import admit_create, admit_delete, admit_update

Seen = list[str]


class Recorder(Handler):
    """Notes in a shared list each phase it is called in; handles every operation unless
    told which."""

    def __init__(self, name: str, seen: Seen, *operations: Operation) -> None:
        super().__init__(*(operations or (CREATE, UPDATE, DELETE)))
        self.name, self.seen = name, seen


class Mutating(Recorder):
    async def admit(self, attrs: Attributes) -> None:
        self.seen.append(f"admit {self.name}")


class Validating(Recorder):
    async def validate(self, attrs: Attributes) -> None:
        self.seen.append(f"validate {self.name}")


class Both(Mutating, Validating):
    pass


# Each plugin's halves as Kubernetes gives them (its Admit and Validate in
# kubernetes/plugin/pkg/admission/ and k8s.io/apiserver/pkg/admission/plugin/).
HALVES: dict[str, type[Mutating] | type[Validating]] = {
    "NamespaceLifecycle": Mutating,
    "LimitRanger": Both,
    "ServiceAccount": Both,
    "NodeRestriction": Mutating,
    "PodSecurity": Validating,
    "Priority": Both,
    "DefaultTolerationSeconds": Mutating,
    "DefaultStorageClass": Mutating,
    "StorageObjectInUseProtection": Mutating,
    "RuntimeClass": Both,
    "CertificateApproval": Validating,
    "CertificateSigning": Validating,
    "CertificateSubjectRestriction": Validating,
}


def _chain(names: list[str], seen: Seen, disabled: frozenset[str] = frozenset()) -> AdmissionChain:
    recorders: dict[str, Plugin] = {n: HALVES[n](n, seen) for n in names}
    return plugins.ordered_chain(recorders, disabled, Validating("escalation", seen))


async def _phases(names: list[str], disabled: frozenset[str] = frozenset()) -> Seen:
    seen: Seen = []
    await admit_create(_chain(names, seen, disabled), core_pb2.Pod())
    return seen


def test_the_order_is_kube_apiservers_with_the_webhooks_and_quota_at_the_end() -> None:
    assert plugins.ORDER == (
        "NamespaceLifecycle",
        "LimitRanger",
        "ServiceAccount",
        "NodeRestriction",
        "PodSecurity",
        "Priority",
        "DefaultTolerationSeconds",
        "DefaultStorageClass",
        "StorageObjectInUseProtection",
        "RuntimeClass",
        "CertificateApproval",
        "CertificateSigning",
        "CertificateSubjectRestriction",
        "DefaultIngressClass",
        "MutatingAdmissionWebhook",
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionWebhook",
        "ResourceQuota",
    )


async def test_every_admit_in_order_then_every_validate_in_order() -> None:
    assert await _phases(list(reversed(HALVES))) == [
        "admit NamespaceLifecycle",
        "admit LimitRanger",
        "admit ServiceAccount",
        "admit NodeRestriction",
        "admit Priority",
        "admit DefaultTolerationSeconds",
        "admit DefaultStorageClass",
        "admit StorageObjectInUseProtection",
        "admit RuntimeClass",
        "validate LimitRanger",
        "validate ServiceAccount",
        "validate PodSecurity",
        "validate Priority",
        "validate RuntimeClass",
        "validate CertificateApproval",
        "validate CertificateSigning",
        "validate CertificateSubjectRestriction",
        "validate escalation",
    ]


async def test_the_webhooks_and_quota_go_after_every_plugin_in_each_phase() -> None:
    seen: Seen = []
    chain = plugins.ordered_chain(
        {
            "ResourceQuota": Validating("ResourceQuota", seen),
            "ValidatingAdmissionWebhook": Validating("ValidatingAdmissionWebhook", seen),
            "ValidatingAdmissionPolicy": Validating("ValidatingAdmissionPolicy", seen),
            "MutatingAdmissionWebhook": Mutating("MutatingAdmissionWebhook", seen),
            "RuntimeClass": Both("RuntimeClass", seen),
            "NamespaceLifecycle": Mutating("NamespaceLifecycle", seen),
        },
        frozenset(),
    )
    await admit_create(chain, core_pb2.Pod())
    assert seen == [
        "admit NamespaceLifecycle",
        "admit RuntimeClass",
        "admit MutatingAdmissionWebhook",
        "validate RuntimeClass",
        "validate ValidatingAdmissionPolicy",
        "validate ValidatingAdmissionWebhook",
        "validate ResourceQuota",
    ]


async def test_a_plugin_sees_only_the_operations_it_handles() -> None:
    seen: Seen = []
    chain = AdmissionChain(
        Both("creates", seen, CREATE),
        Mutating("updates", seen, UPDATE),
        Validating("deletes", seen, DELETE),
    )
    pod = core_pb2.Pod()
    await admit_create(chain, pod)
    await admit_update(chain, "status", pod, pod)
    await admit_delete(chain, pod)
    assert seen == ["admit creates", "validate creates", "admit updates", "validate deletes"]


async def test_optional_plugins_may_be_turned_off() -> None:
    off = frozenset({"Priority", "RuntimeClass", "ServiceAccount"})
    assert off == set(plugins.OPTIONAL)
    assert await _phases(list(HALVES), off) == [
        "admit NamespaceLifecycle",
        "admit LimitRanger",
        "admit NodeRestriction",
        "admit DefaultTolerationSeconds",
        "admit DefaultStorageClass",
        "admit StorageObjectInUseProtection",
        "validate LimitRanger",
        "validate PodSecurity",
        "validate CertificateApproval",
        "validate CertificateSigning",
        "validate CertificateSubjectRestriction",
        "validate escalation",
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
def test_unknown_plugins_and_required_ones_turned_off_are_refused(
    names: list[str], disabled: frozenset[str], error: str
) -> None:
    seen: Seen = []
    recorders: dict[str, Plugin] = {n: Validating(n, seen) for n in names}
    with pytest.raises(ValueError, match=error):
        plugins.ordered_chain(recorders, disabled)
