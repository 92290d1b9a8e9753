"""The csrapproving controller (kubernetes pkg/controller/certificates/approver/sarapprove.go):
approves a kubelet's client certificate request (signer kube-apiserver-client-kubelet, subject
O=system:nodes CN=system:node:<name>, client usages) when a SubjectAccessReview says its
requestor may create certificatesigningrequests/selfnodeclient (the node renewing its own) or
certificatesigningrequests/nodeclient (a bootstrap identity asking for a node's first). A
request it does not recognize, or whose requestor may do neither, is left for a person."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from cryptography import x509

from controller.certificates import csr as csrs
from controller.certificates.signer_rules import kubelet_client
from controller.framework.reconciler import ReconcileLoop
from podplane.api.authorization.v1 import authorization_pb2
from podplane.api.certificates.v1 import certificates_pb2
from podplane.apimachinery import pem, resources
from podplane.client.clientset import Client, is_conflict, is_not_found
from podplane.client.informer import Informer
from podplane.client.informer_factory import SharedInformerFactory

log = logging.getLogger(__name__)

CSR = certificates_pb2.CertificateSigningRequest
SAR = authorization_pb2.SubjectAccessReview
# Asks the apiserver a SubjectAccessReview (Client.create_subject_access_review).
Review = Callable[[SAR], Awaitable[SAR]]


@dataclass(frozen=True)
class Recognizer:
    recognize: Callable[[CSR, x509.CertificateSigningRequest], bool]
    subresource: str
    message: str


def is_node_client(csr: CSR, request: x509.CertificateSigningRequest) -> bool:
    """isNodeClientCert: the kubelet signer's rules hold."""
    return (
        csr.spec.signer_name == csrs.KUBE_APISERVER_CLIENT_KUBELET
        and kubelet_client(request, list(csr.spec.usages)) is None
    )


def is_self_node_client(csr: CSR, request: x509.CertificateSigningRequest) -> bool:
    """isSelfNodeClientCert: a node client request from the node it names."""
    return csr.spec.username == pem.common_name(request) and is_node_client(csr, request)


RECOGNIZERS = (
    Recognizer(
        is_self_node_client,
        "selfnodeclient",
        "Auto approving self kubelet client certificate after SubjectAccessReview.",
    ),
    Recognizer(
        is_node_client,
        "nodeclient",
        "Auto approving kubelet client certificate after SubjectAccessReview.",
    ),
)


def review_of(csr: CSR, subresource: str) -> SAR:
    """May the requestor create certificatesigningrequests/<subresource>?"""
    spec = csr.spec
    review = SAR(
        spec=authorization_pb2.SubjectAccessReviewSpec(
            user=spec.username,
            uid=spec.uid,
            groups=list(spec.groups),
            resource_attributes=authorization_pb2.ResourceAttributes(
                group="certificates.k8s.io",
                version="*",
                resource="certificatesigningrequests",
                subresource=subresource,
                verb="create",
            ),
        )
    )
    for key, values in spec.extra.items():
        review.spec.extra[key].items.extend(values.items)
    return review


def undecided(csr: CSR) -> bool:
    return (
        not csr.status.certificate
        and csrs.condition(csr, csrs.APPROVED) is None
        and csrs.condition(csr, csrs.DENIED) is None
    )


class CSRApprovingController:
    def __init__(
        self,
        client: Client,
        informers: SharedInformerFactory,
        *,
        review: Review | None = None,
        workers: int = 1,
    ) -> None:
        self.client = client
        self.review: Review = review or client.create_subject_access_review
        self.requests: Informer[CSR] = informers.informer_for(resources.CERTIFICATE_SIGNING_REQUEST)
        self.loop = ReconcileLoop(
            "csrapproving", self.reconcile, informers, [self.requests], workers=workers
        )
        self.requests.add_handler(
            on_add=self._changed, on_update=lambda _old, new: self._changed(new)
        )

    def _changed(self, csr: CSR) -> None:
        if undecided(csr) and csr.spec.signer_name == csrs.KUBE_APISERVER_CLIENT_KUBELET:
            self.loop.enqueue(csr.metadata.name)

    async def run(self) -> None:
        await self.loop.run()

    async def reconcile(self, name: str) -> float | None:
        csr = self.requests.get(name)
        if csr is None or not undecided(csr):
            return None
        try:
            request = csrs.parse_request(csr)
        except ValueError as e:
            raise ValueError(f'unable to parse csr "{name}": {e}') from None
        tried: list[str] = []
        for r in RECOGNIZERS:
            if not r.recognize(csr, request):
                continue
            tried.append(r.subresource)
            answer = await self.review(review_of(csr, r.subresource))
            if answer.status.allowed:
                await self._approve(csr, r.message)
                return None
        if tried:
            # An IgnorableError in Kubernetes: logged, not retried.
            log.info(
                'recognized csr "%s" as [%s] but subject access review was not approved',
                name,
                " ".join(tried),
            )
        return None

    async def _approve(self, csr: CSR, message: str) -> None:
        approved = CSR()
        approved.CopyFrom(csr)
        approved.status.conditions.add(
            type=csrs.APPROVED, status="True", reason="AutoApproved", message=message
        )
        try:
            await self.client.certificatesigningrequests.update_approval(approved)
        except Exception as e:
            if is_conflict(e) or is_not_found(e):
                return
            raise
        log.info("csrapproving: approved %s", csr.metadata.name)
