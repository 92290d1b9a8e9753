"""Which write admission plugins run, and in what order (kubernetes pkg/kubeapiserver/options/
plugins.go AllOrderedPlugins, of those kube-apiserver enables by default, and NodeRestriction).

Kubernetes runs every plugin's mutating half, then every validating half; podplane's plugins each
do both at once, so the plugins that only validate (NodeRestriction, PodSecurity, RBAC's
escalation check) come after every one that changes the object, and so see it as it will be
stored. The mutating ones keep Kubernetes' order among themselves."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from apiserver.admission import certificates, priority, runtime_class, service_account
from apiserver.admission.chain import AdmissionChain
from apiserver.admission.interfaces import WriteAdmission

NAMESPACE_LIFECYCLE = "NamespaceLifecycle"
DEFAULT_STORAGE_CLASS = "DefaultStorageClass"
STORAGE_OBJECT_IN_USE_PROTECTION = "StorageObjectInUseProtection"
NODE_RESTRICTION = "NodeRestriction"
POD_SECURITY = "PodSecurity"

ORDER = (
    NAMESPACE_LIFECYCLE,
    service_account.NAME,
    priority.NAME,
    DEFAULT_STORAGE_CLASS,
    STORAGE_OBJECT_IN_USE_PROTECTION,
    runtime_class.NAME,
    NODE_RESTRICTION,
    POD_SECURITY,
    certificates.APPROVAL_NAME,
    certificates.SIGNING_NAME,
    certificates.SUBJECT_RESTRICTION_NAME,
)
# What --disable-admission-plugins may turn off.
OPTIONAL = (service_account.NAME, priority.NAME, runtime_class.NAME)


def ordered_chain(
    plugins: Mapping[str, WriteAdmission],
    disabled: Collection[str],
    *last: WriteAdmission,
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
