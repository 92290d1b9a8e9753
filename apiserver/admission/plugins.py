"""Which admission plugins run, and in what order (kubernetes pkg/kubeapiserver/options/
plugins.go AllOrderedPlugins, of those kube-apiserver enables by default, and NodeRestriction).

The chain runs every plugin's mutating half in this order, then every validating half in this
order (apiserver/admission/chain.py), so a validating plugin sees the object as every mutating
one left it, wherever it stands. The webhooks (apiserver/admission/webhooks/),
ValidatingAdmissionPolicy and ResourceQuota have their places at the end, where Kubernetes puts
them ("webhook, resourcequota, and deny plugins must go at the end"); LimitRanger is early,
after NamespaceLifecycle, so quota counts the requests and limits it defaulted."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from apiserver.admission import (
    certificates,
    default_ingress_class,
    default_toleration_seconds,
    limit_ranger,
    priority,
    resource_quota,
    runtime_class,
    service_account,
)
from apiserver.admission.chain import AdmissionChain
from apiserver.admission.interfaces import Plugin

NAMESPACE_LIFECYCLE = "NamespaceLifecycle"
NODE_RESTRICTION = "NodeRestriction"
POD_SECURITY = "PodSecurity"
DEFAULT_STORAGE_CLASS = "DefaultStorageClass"
STORAGE_OBJECT_IN_USE_PROTECTION = "StorageObjectInUseProtection"
MUTATING_ADMISSION_WEBHOOK = "MutatingAdmissionWebhook"
VALIDATING_ADMISSION_POLICY = "ValidatingAdmissionPolicy"
VALIDATING_ADMISSION_WEBHOOK = "ValidatingAdmissionWebhook"
RESOURCE_QUOTA = resource_quota.NAME

ORDER = (
    NAMESPACE_LIFECYCLE,
    limit_ranger.NAME,
    service_account.NAME,
    NODE_RESTRICTION,
    POD_SECURITY,
    priority.NAME,
    default_toleration_seconds.NAME,
    DEFAULT_STORAGE_CLASS,
    STORAGE_OBJECT_IN_USE_PROTECTION,
    runtime_class.NAME,
    certificates.APPROVAL_NAME,
    certificates.SIGNING_NAME,
    certificates.SUBJECT_RESTRICTION_NAME,
    default_ingress_class.NAME,
    MUTATING_ADMISSION_WEBHOOK,
    VALIDATING_ADMISSION_POLICY,
    VALIDATING_ADMISSION_WEBHOOK,
    RESOURCE_QUOTA,
)
# What --disable-admission-plugins may turn off.
OPTIONAL = (service_account.NAME, priority.NAME, runtime_class.NAME)


def ordered_chain(
    plugins: Mapping[str, Plugin],
    disabled: Collection[str],
    *last: Plugin,
) -> AdmissionChain:
    """The plugins by name in ORDER, but the disabled ones; then `last` (checks of the registry's
    own that are no admission plugin in Kubernetes: RBAC's escalation check)."""
    unknown = set(plugins) - set(ORDER)
    if unknown:
        raise ValueError(f"no place in the admission order for {sorted(unknown)}")
    refused = set(disabled) - set(OPTIONAL)
    if refused:
        raise ValueError(f"admission plugins that cannot be disabled: {sorted(refused)}")
    chosen = [plugins[name] for name in ORDER if name in plugins and name not in disabled]
    return AdmissionChain(*chosen, *last)
