"""The certificate controllers against the fake API: csrsigning issues an approved kubelet client
request with the CA (subject and key the request's, verifiable against the CA) and fails one its
signer's rules refuse; a denied or pending one is never signed; csrapproving approves a node
client request whose requestor a SubjectAccessReview allows, with Kubernetes' reason and
message, and leaves it pending otherwise; csrcleaner's retention."""

from __future__ import annotations

import datetime
from pathlib import Path

from cryptography import x509

from controller.certificates.approver import SAR, CSRApprovingController
from controller.certificates.authority import CertificateAuthority
from controller.certificates.cleaner import due_in
from controller.certificates.signer import CSRSigningController, duration
from podplane.api.certificates.v1 import certificates_pb2
from podplane.client.informer_factory import SharedInformerFactory
from podplane.componentbase import pki
from tests import x509_requests
from tests.unit.controller.fake_api import FakeCluster, running, until

CSR = certificates_pb2.CertificateSigningRequest
KUBELET_CLIENT = "kubernetes.io/kube-apiserver-client-kubelet"


def request(
    name: str,
    cn: str = "system:node:node-1",
    orgs: tuple[str, ...] = ("system:nodes",),
    *,
    usages: tuple[str, ...] = ("digital signature", "client auth"),
    conditions: tuple[str, ...] = (),
    username: str = "system:bootstrap:abcdef",
) -> CSR:
    csr = CSR(metadata={"name": name})
    csr.spec.request = x509_requests.request_pem(cn, orgs)
    csr.spec.signer_name = KUBELET_CLIENT
    csr.spec.usages.extend(usages)
    csr.spec.username = username
    csr.spec.groups.extend(["system:bootstrappers", "system:authenticated"])
    for c in conditions:
        csr.status.conditions.add(type=c, status="True")
    return csr


def authority(tmp_path: Path) -> CertificateAuthority:
    cert, key = pki.ensure_ca(tmp_path)
    return CertificateAuthority(cert, key)


async def test_the_signer_issues_approved_requests_and_fails_those_its_rules_refuse(
    tmp_path: Path,
) -> None:
    cluster = FakeCluster()
    ca = authority(tmp_path)
    api = cluster.certificatesigningrequests
    await api.create(request("good", conditions=("Approved",)))
    await api.create(request("wrong-org", orgs=("devs",), conditions=("Approved",)))
    await api.create(request("denied", conditions=("Denied",)))
    await api.create(request("pending"))
    signer = CSRSigningController(cluster, SharedInformerFactory(cluster), ca)  # type: ignore[arg-type]
    async with running(signer):
        await until(lambda: len(api.status_updates) == 2, "two status writes", cluster)
    good = api.store["/good"]
    cert = x509.load_pem_x509_certificate(good.status.certificate)
    cert.verify_directly_issued_by(ca.certificate)
    assert cert.subject == x509.load_pem_x509_csr(request_of(good)).subject
    ext = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert [u._name for u in ext] == ["clientAuth"]
    failed = api.store["/wrong-org"]
    assert not failed.status.certificate
    (condition,) = [c for c in failed.status.conditions if c.type == "Failed"]
    assert (condition.reason, condition.message) == (
        "SignerValidationFailure",
        "subject organization is not system:nodes",
    )
    assert not api.store["/denied"].status.certificate
    assert not api.store["/pending"].status.certificate


def test_the_certificates_duration_is_the_shorter_but_at_least_ten_minutes() -> None:
    year = datetime.timedelta(days=365)
    csr = request("x")
    assert duration(csr, year) == year
    csr.spec.expiration_seconds = 3600
    assert duration(csr, year) == datetime.timedelta(hours=1)
    assert duration(csr, datetime.timedelta(minutes=30)) == datetime.timedelta(minutes=30)
    csr.spec.expiration_seconds = 60
    assert duration(csr, year) == datetime.timedelta(minutes=10)


async def test_the_approver_approves_node_client_requests_a_review_allows() -> None:
    cluster = FakeCluster()
    asked: list[SAR] = []

    async def review(sar: SAR) -> SAR:
        asked.append(sar)
        answer = SAR()
        answer.CopyFrom(sar)
        answer.status.allowed = sar.spec.resource_attributes.subresource == "nodeclient"
        return answer

    api = cluster.certificatesigningrequests
    await api.create(request("bootstrap"))
    await api.create(request("not-a-node", cn="jane", orgs=("devs",)))
    approver = CSRApprovingController(
        cluster,  # type: ignore[arg-type]
        SharedInformerFactory(cluster),  # type: ignore[arg-type]
        review=review,
    )
    async with running(approver):
        await until(lambda: len(api.status_updates) == 1, "an approval", cluster)
    (approved,) = api.store["/bootstrap"].status.conditions
    assert (approved.type, approved.status, approved.reason, approved.message) == (
        "Approved",
        "True",
        "AutoApproved",
        "Auto approving kubelet client certificate after SubjectAccessReview.",
    )
    assert not api.store["/not-a-node"].status.conditions
    (sar,) = asked  # not self (the username is not the CN): nodeclient alone is asked
    assert sar.spec.user == "system:bootstrap:abcdef"
    assert list(sar.spec.groups) == ["system:bootstrappers", "system:authenticated"]
    attrs = sar.spec.resource_attributes
    assert (attrs.group, attrs.resource, attrs.subresource, attrs.verb) == (
        "certificates.k8s.io",
        "certificatesigningrequests",
        "nodeclient",
        "create",
    )


def test_the_cleaners_retention() -> None:
    now = datetime.datetime(2026, 1, 2, tzinfo=datetime.UTC)
    hour = datetime.timedelta(hours=1)

    def at(delta: datetime.timedelta) -> str:
        return (now - delta).strftime("%Y-%m-%dT%H:%M:%SZ")

    pending = request("p")
    pending.metadata.creation_timestamp = at(23 * hour)
    assert due_in(pending, now) == hour
    denied = request("d")
    denied.metadata.creation_timestamp = at(2 * hour)
    denied.status.conditions.add(type="Denied", status="True", last_update_time=at(2 * hour))
    assert due_in(denied, now) <= datetime.timedelta(0)
    approved = request("a", conditions=())
    approved.metadata.creation_timestamp = at(30 * hour)
    approved.status.conditions.add(type="Approved", status="True", last_update_time=at(2 * hour))
    # Approved and not issued: kept (Kubernetes deletes only issued or failed ones).
    assert due_in(approved, now) == datetime.timedelta(hours=24)


def request_of(csr: CSR) -> bytes:
    return csr.spec.request
