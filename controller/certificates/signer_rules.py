"""Which requests each Kubernetes signer issues (the signer's isRequestForSignerFn and
pkg/apis/certificates' ValidateKubeletClientCSR and ValidateKubeletServingCSR): a request that
fails its signer's rules gets a Failed condition with the message returned here."""

from __future__ import annotations

from collections.abc import Callable

from cryptography import x509

from controller.certificates import csr as csrs
from podplane.apimachinery import pem

KUBELET_CLIENT_USAGES = frozenset({"digital signature", "key encipherment", "client auth"})
KUBELET_CLIENT_USAGES_NO_RSA = frozenset({"digital signature", "client auth"})
KUBELET_SERVING_USAGES = frozenset({"digital signature", "key encipherment", "server auth"})
KUBELET_SERVING_USAGES_NO_RSA = frozenset({"digital signature", "server auth"})


def _names(request: x509.CertificateSigningRequest) -> x509.SubjectAlternativeName | None:
    try:
        return request.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return None


def _of(sans: x509.SubjectAlternativeName | None, kind: type[x509.GeneralName]) -> list[object]:
    return list(sans.get_values_for_type(kind)) if sans is not None else []  # type: ignore[arg-type]


def _system_nodes_only(request: x509.CertificateSigningRequest) -> bool:
    return sorted(pem.organizations(request)) == [csrs.NODES_GROUP]


def kubelet_client(request: x509.CertificateSigningRequest, usages: list[str]) -> str | None:
    """ValidateKubeletClientCSR."""
    if not _system_nodes_only(request):
        return "subject organization is not system:nodes"
    sans = _names(request)
    if _of(sans, x509.DNSName):
        return "DNS subjectAltNames are not allowed"
    if _of(sans, x509.RFC822Name):
        return "Email subjectAltNames are not allowed"
    if _of(sans, x509.IPAddress):
        return "IP subjectAltNames are not allowed"
    if _of(sans, x509.UniformResourceIdentifier):
        return "URI subjectAltNames are not allowed"
    if not pem.common_name(request).startswith(csrs.NODE_PREFIX):
        return "subject common name does not begin with system:node:"
    if set(usages) not in (KUBELET_CLIENT_USAGES, KUBELET_CLIENT_USAGES_NO_RSA):
        return f"usages did not match {csrs.usages_text(list(KUBELET_CLIENT_USAGES))}"
    return None


def kubelet_serving(request: x509.CertificateSigningRequest, usages: list[str]) -> str | None:
    """ValidateKubeletServingCSR."""
    if not _system_nodes_only(request):
        return "subject organization is not system:nodes"
    sans = _names(request)
    if not _of(sans, x509.DNSName) and not _of(sans, x509.IPAddress):
        return "DNS or IP subjectAltName is required"
    if _of(sans, x509.RFC822Name):
        return "Email subjectAltNames are not allowed"
    if _of(sans, x509.UniformResourceIdentifier):
        return "URI subjectAltNames are not allowed"
    if set(usages) not in (KUBELET_SERVING_USAGES, KUBELET_SERVING_USAGES_NO_RSA):
        return f"usages did not match {csrs.usages_text(list(KUBELET_SERVING_USAGES))}"
    if not pem.common_name(request).startswith(csrs.NODE_PREFIX):
        return "subject common name does not begin with system:node:"
    return None


def kube_apiserver_client(request: x509.CertificateSigningRequest, usages: list[str]) -> str | None:
    """validAPIServerClientUsages: client auth, optionally digital signature and key
    encipherment, nothing else."""
    for u in usages:
        if u not in ("digital signature", "key encipherment", "client auth"):
            return f"invalid usage for client certificate: {u}"
    if "client auth" not in usages:
        return "missing required usage for client certificate: client auth"
    return None


# The signers the csrsigning controller issues for, and each one's rules.
SIGNERS: dict[str, Callable[[x509.CertificateSigningRequest, list[str]], str | None]] = {
    csrs.KUBE_APISERVER_CLIENT: kube_apiserver_client,
    csrs.KUBE_APISERVER_CLIENT_KUBELET: kubelet_client,
    csrs.KUBELET_SERVING: kubelet_serving,
}
