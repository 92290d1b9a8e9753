"""The csrcleaner controller (kubernetes pkg/controller/certificates/cleaner): deletes requests
past their keeping: issued (approved) ones an hour after their approval, denied and failed ones
an hour after that condition, pending ones (no condition) a day after their creation, and issued
ones once their certificate has expired; an approved request not yet issued is kept. Kubernetes
polls every hour; here each request is looked at again when it would come due."""

from __future__ import annotations

import datetime
import logging

from cryptography import x509

from controller.certificates import csr as csrs
from controller.framework.reconciler import ReconcileLoop
from podplane.api.certificates.v1 import certificates_pb2
from podplane.apimachinery import pem, resources, timeutil
from podplane.client.clientset import Client, is_not_found
from podplane.client.informer import Informer
from podplane.client.informer_factory import SharedInformerFactory

log = logging.getLogger(__name__)

CSR = certificates_pb2.CertificateSigningRequest
APPROVED_EXPIRATION = datetime.timedelta(hours=1)
DENIED_EXPIRATION = datetime.timedelta(hours=1)
FAILED_EXPIRATION = datetime.timedelta(hours=1)
PENDING_EXPIRATION = datetime.timedelta(hours=24)


def _since(value: str, now: datetime.datetime) -> datetime.timedelta | None:
    t = timeutil.parse(value)
    return None if t is None else now - t


def _certificate_expiry(csr: CSR) -> datetime.datetime | None:
    block = pem.decode(csr.status.certificate)
    if block is None or block.type != "CERTIFICATE":
        return None
    try:
        return x509.load_der_x509_certificate(block.data).not_valid_after_utc
    except ValueError:
        return None


def due_in(csr: CSR, now: datetime.datetime) -> datetime.timedelta:
    """How long until the request is past its keeping (zero or less: delete it now)."""
    waits: list[datetime.timedelta] = []
    issued = bool(csr.status.certificate)
    for type_, keep, applies in (
        (csrs.APPROVED, APPROVED_EXPIRATION, issued),  # isIssuedPastDeadline
        (csrs.DENIED, DENIED_EXPIRATION, True),
        (csrs.FAILED, FAILED_EXPIRATION, True),
    ):
        c = csrs.condition(csr, type_)
        if c is None or not applies:
            continue
        age = _since(c.last_update_time, now)
        if age is not None:
            waits.append(keep - age)
    if not csr.status.conditions:  # what kubectl shows as Pending
        age = _since(csr.metadata.creation_timestamp, now)
        if age is not None:
            waits.append(PENDING_EXPIRATION - age)
    expiry = _certificate_expiry(csr) if csr.status.certificate else None
    if expiry is not None:
        waits.append(expiry - now)
    return min(waits) if waits else PENDING_EXPIRATION


class CSRCleanerController:
    def __init__(
        self, client: Client, informers: SharedInformerFactory, *, workers: int = 1
    ) -> None:
        self.client = client
        self.requests: Informer[CSR] = informers.informer_for(resources.CERTIFICATE_SIGNING_REQUEST)
        self.loop = ReconcileLoop(
            "csrcleaner", self.reconcile, informers, [self.requests], workers=workers
        )
        self.requests.add_handler(
            on_add=self._changed, on_update=lambda _old, new: self._changed(new)
        )

    def _changed(self, csr: CSR) -> None:
        self.loop.enqueue(csr.metadata.name)

    async def run(self) -> None:
        await self.loop.run()

    async def reconcile(self, name: str) -> float | None:
        csr = self.requests.get(name)
        if csr is None:
            return None
        wait = due_in(csr, datetime.datetime.now(datetime.UTC))
        if wait > datetime.timedelta(0):
            return wait.total_seconds()
        try:
            await self.client.certificatesigningrequests.delete(name)
        except Exception as e:
            if not is_not_found(e):
                raise
        log.info("csrcleaner: deleted %s", name)
        return None
