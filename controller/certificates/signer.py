"""The csrsigning controller (kubernetes pkg/controller/certificates/signer): issues approved,
not yet issued, not failed requests of the Kubernetes signers (kube-apiserver-client,
kube-apiserver-client-kubelet, kubelet-serving) with the cluster CA, for the shorter of the
request's expirationSeconds and --cluster-signing-duration (at least 10 minutes). A request its
signer's rules refuse gets a Failed condition (SignerValidationFailure) with their message."""

from __future__ import annotations

import datetime
import logging

from controller.certificates import csr as csrs
from controller.certificates.authority import CertificateAuthority
from controller.certificates.signer_rules import SIGNERS
from controller.framework.manager import ControllerOptions
from controller.framework.reconciler import ReconcileLoop
from podplane.api.certificates.v1 import certificates_pb2
from podplane.apimachinery import resources, timeutil
from podplane.client.clientset import Client, is_conflict, is_not_found
from podplane.client.informer import Informer
from podplane.client.informer_factory import SharedInformerFactory

log = logging.getLogger(__name__)

CSR = certificates_pb2.CertificateSigningRequest
DEFAULT_DURATION = datetime.timedelta(days=365)
MIN_DURATION = datetime.timedelta(minutes=10)


def duration(csr: CSR, default: datetime.timedelta) -> datetime.timedelta:
    """The signer's duration(): the request's, when shorter than the default, but not under 10
    minutes."""
    if not csr.spec.HasField("expiration_seconds"):
        return default
    requested = datetime.timedelta(seconds=csr.spec.expiration_seconds)
    return max(MIN_DURATION, min(requested, default))


def wants_signing(csr: CSR) -> bool:
    return (
        csr.spec.signer_name in SIGNERS
        and csrs.is_approved(csr)
        and not csrs.has_true_condition(csr, csrs.FAILED)
        and not csr.status.certificate
    )


class CSRSigningController:
    def __init__(
        self,
        client: Client,
        informers: SharedInformerFactory,
        authority: CertificateAuthority | None,
        *,
        cert_ttl: datetime.timedelta = DEFAULT_DURATION,
        workers: int = 1,
    ) -> None:
        self.client = client
        self.authority = authority
        self.cert_ttl = cert_ttl
        self.requests: Informer[CSR] = informers.informer_for(resources.CERTIFICATE_SIGNING_REQUEST)
        self.loop = ReconcileLoop(
            "csrsigning", self.reconcile, informers, [self.requests], workers=workers
        )
        self.requests.add_handler(
            on_add=self._changed, on_update=lambda _old, new: self._changed(new)
        )

    def _changed(self, csr: CSR) -> None:
        if wants_signing(csr):
            self.loop.enqueue(csr.metadata.name)

    async def run(self) -> None:
        if self.authority is None:
            # kube-controller-manager starts no signer without its files.
            log.warning(
                "csrsigning: no --cluster-signing-cert-file/--cluster-signing-key-file; "
                "certificate signing requests are not signed"
            )
            return
        await self.loop.run()

    async def reconcile(self, name: str) -> float | None:
        csr = self.requests.get(name)
        if csr is None or self.authority is None or not wants_signing(csr):
            return None
        try:
            request = csrs.parse_request(csr)
        except ValueError as e:
            raise ValueError(f'unable to parse csr "{name}": {e}') from None
        updated = CSR()
        updated.CopyFrom(csr)
        problem = SIGNERS[csr.spec.signer_name](request, list(csr.spec.usages))
        if problem is not None:
            updated.status.conditions.add(
                type=csrs.FAILED,
                status="True",
                reason="SignerValidationFailure",
                message=problem,
                last_update_time=timeutil.now(),
            )
        else:
            updated.status.certificate = self.authority.sign(
                request, list(csr.spec.usages), duration(csr, self.cert_ttl)
            )
        try:
            await self.client.certificatesigningrequests.update_status(updated)
        except Exception as e:
            if is_conflict(e) or is_not_found(e):
                return None
            raise
        log.info("csrsigning: %s %s", "failed" if problem else "issued", name)
        return None


def csr_signing_controller(
    client: Client, informers: SharedInformerFactory, options: ControllerOptions
) -> CSRSigningController:
    """The controller of the options' CA files (none without them)."""
    authority = (
        CertificateAuthority.load(
            options.cluster_signing_cert_file, options.cluster_signing_key_file
        )
        if options.cluster_signing_cert_file
        else None
    )
    ttl = datetime.timedelta(seconds=options.cluster_signing_duration)
    return CSRSigningController(client, informers, authority, cert_ttl=ttl)
