"""What the certificate controllers read of a CertificateSigningRequest (pkg/controller/
certificates/certificate_controller_utils.go and the API's helpers): its conditions, and the
request it carries."""

from __future__ import annotations

from cryptography import x509

from podplane.api.certificates.v1 import certificates_pb2
from podplane.apimachinery import pem

CSR = certificates_pb2.CertificateSigningRequest
APPROVED, DENIED, FAILED = "Approved", "Denied", "Failed"
KUBE_APISERVER_CLIENT = "kubernetes.io/kube-apiserver-client"
KUBE_APISERVER_CLIENT_KUBELET = "kubernetes.io/kube-apiserver-client-kubelet"
KUBELET_SERVING = "kubernetes.io/kubelet-serving"
NODES_GROUP = "system:nodes"
NODE_PREFIX = "system:node:"


def condition(csr: CSR, type_: str) -> certificates_pb2.CertificateSigningRequestCondition | None:
    return next((c for c in csr.status.conditions if c.type == type_), None)


def has_true_condition(csr: CSR, type_: str) -> bool:
    c = condition(csr, type_)
    return c is not None and c.status == "True"


def is_approved(csr: CSR) -> bool:
    """IsCertificateRequestApproved: Approved and not Denied."""
    return has_true_condition(csr, APPROVED) and not has_true_condition(csr, DENIED)


def parse_request(csr: CSR) -> x509.CertificateSigningRequest:
    """The X.509 request; ValueError if it does not parse."""
    return pem.parse_certificate_request(csr.spec.request)


def usages_text(usages: list[str]) -> str:
    """A sorted set of usages as Go's %v prints a []string: [a b c]."""
    return "[" + " ".join(sorted(usages)) + "]"
