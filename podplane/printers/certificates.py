"""The certificate signing request table, as printCertificateSigningRequest: the condition is
Denied, Approved or Pending, then ",Failed" and ",Issued" when they apply."""

from __future__ import annotations

from datetime import datetime

from podplane.api.certificates.v1 import certificates_pb2
from podplane.apimachinery.timeutil import human_age, human_duration
from podplane.printers.spec import CREATION_TIMESTAMP_DOC, Cell, Column, TableSpec, name_column

CSR = certificates_pb2.CertificateSigningRequest


def condition_text(csr: CSR) -> str:
    """extractCSRStatus."""
    types = {c.type for c in csr.status.conditions}
    text = "Denied" if "Denied" in types else "Approved" if "Approved" in types else "Pending"
    if "Failed" in types:
        text += ",Failed"
    if csr.status.certificate:
        text += ",Issued"
    return text


def certificate_signing_request_row(csr: CSR, now: datetime) -> list[Cell]:
    spec = csr.spec
    return [
        csr.metadata.name,
        human_age(csr.metadata.creation_timestamp, now),
        spec.signer_name or "<none>",
        spec.username,
        human_duration(spec.expiration_seconds)
        if spec.HasField("expiration_seconds")
        else "<none>",
        condition_text(csr),
    ]


CERTIFICATE_SIGNING_REQUEST_TABLE = TableSpec(
    columns=(
        name_column(),
        Column("Age", "date", CREATION_TIMESTAMP_DOC),
        Column(
            "SignerName",
            "string",
            "Requested signer for the request. It is a qualified name in the form: "
            "`scope-hostname.io/name`. If empty, it will be defaulted:\n 1. If it's a kubelet "
            'client certificate, it is assigned\n    "kubernetes.io/kube-apiserver-client-kubelet".'
            "\n 2. If it's a kubelet serving certificate, it is assigned\n    "
            '"kubernetes.io/kubelet-serving".\n 3. Otherwise, it is assigned '
            '"kubernetes.io/legacy-unknown".\nDistribution of trust for signers happens out of '
            "band. You can select on this field using `spec.signerName`.",
        ),
        Column("Requestor", "string", "Base64-encoded PKCS#10 CSR data"),
        Column(
            "RequestedDuration",
            "string",
            "expirationSeconds is the requested duration of validity of the issued certificate.",
        ),
        Column(
            "Condition", "string", "Conditions applied to the request, such as approval or denial."
        ),
    ),
    row=certificate_signing_request_row,
)
