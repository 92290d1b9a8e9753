"""admissionregistration.k8s.io's kinds (kubernetes pkg/registry/admissionregistration): the
webhook configurations, whose generation moves when their webhooks change; the
ValidatingAdmissionPolicy, created without status, whose status subresource (the type checker's)
writes the status alone under its own rules; the ValidatingAdmissionPolicyBinding. Stored,
defaulted and validated only: the apiserver does not call the webhooks or evaluate the policies
yet."""

from __future__ import annotations

from typing import Any

from apiserver.defaulting import admissionregistration as defaulting
from apiserver.registry.strategies.base import StatusWrite, Strategy, clear_status, copy_status
from apiserver.validation import admission_policy
from apiserver.validation import admissionregistration as validation
from podplane.api.admissionregistration.v1 import admissionregistration_pb2 as admreg_pb2
from podplane.apimachinery import resources

Policy = admreg_pb2.ValidatingAdmissionPolicy
Configuration = admreg_pb2.MutatingWebhookConfiguration | admreg_pb2.ValidatingWebhookConfiguration


def _webhooks_changed(new: Configuration, old: Configuration) -> bool:
    """A configuration's generation counts the changes of its webhooks."""
    return list(new.webhooks) != list(old.webhooks)


def _status_as_is(new: Policy, old: Policy) -> None:
    """The status write changes the status alone (the rest is the stored object's already)."""
    return None


STRATEGIES: tuple[Strategy[Any], ...] = (
    Strategy(
        resources.MUTATING_WEBHOOK_CONFIGURATION,
        validation.mutating_webhook_configuration,
        validation.mutating_webhook_configuration_update,
        default=defaulting.mutating_webhook_configuration,
        generation_changed=_webhooks_changed,
    ),
    Strategy(
        resources.VALIDATING_WEBHOOK_CONFIGURATION,
        validation.validating_webhook_configuration,
        validation.validating_webhook_configuration_update,
        default=defaulting.validating_webhook_configuration,
        generation_changed=_webhooks_changed,
    ),
    Strategy(
        resources.VALIDATING_ADMISSION_POLICY,
        admission_policy.validating_admission_policy,
        admission_policy.validating_admission_policy_update,
        default=defaulting.validating_admission_policy,
        prepare_for_create=clear_status,
        status_writes={
            "status": StatusWrite(
                copy_status, _status_as_is, validation.validating_admission_policy_status_update
            )
        },
    ),
    Strategy(
        resources.VALIDATING_ADMISSION_POLICY_BINDING,
        validation.validating_admission_policy_binding,
        validation.validating_admission_policy_binding_update,
        default=defaulting.validating_admission_policy_binding,
    ),
)
