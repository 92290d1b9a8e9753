"""CertificateSigningRequests (kubernetes pkg/registry/certificates/certificates): a new request
is the requesting user's (spec.username, uid, groups and extra are the server's, whatever the
client sent) and has no status; the spec never changes after. Its status subresource (the
signer's) writes the certificate and the Failed condition, its approval subresource (the
approver's) the Approved and Denied conditions; each fills in the times a condition leaves
empty."""

from __future__ import annotations

from typing import Any

from apiserver.auth.user import current_user
from apiserver.registry.strategies.base import StatusWrite, Strategy, meta_fields
from apiserver.validation import certificates as validation
from podplane.api.certificates.v1 import certificates_pb2
from podplane.apimachinery import resources, timeutil

CSR = certificates_pb2.CertificateSigningRequest


def _fields(csr: CSR) -> dict[str, str]:
    return {**meta_fields(csr), "spec.signerName": csr.spec.signer_name}


def _prepare_for_create(csr: CSR) -> None:
    spec = csr.spec
    spec.username = spec.uid = ""
    spec.ClearField("groups")
    spec.ClearField("extra")
    user = current_user()
    if user is not None:
        spec.username, spec.uid = user.name, user.uid
        spec.groups.extend(sorted(user.groups))
        for key, values in user.extra:
            spec.extra[key].items.extend(values)
    csr.ClearField("status")


def _prepare_for_update(new: CSR, old: CSR) -> None:
    """Only subresources change the request's spec (never) and status."""
    new.spec.CopyFrom(old.spec)
    new.status.CopyFrom(old.status)
    if not old.HasField("status"):
        new.ClearField("status")


def _populate_condition_times(new: CSR, old: CSR) -> None:
    """populateConditionTimestamps: an empty lastUpdateTime is now; an empty lastTransitionTime
    is the old condition's if its status is the same, else now."""
    now = timeutil.now()
    for c in new.status.conditions:
        if not c.last_update_time:
            c.last_update_time = now
        if not c.last_transition_time:
            before = next((o for o in old.status.conditions if o.type == c.type), None)
            if before is not None and before.status == c.status and before.last_transition_time:
                c.last_transition_time = before.last_transition_time
            else:
                c.last_transition_time = now


def _take_status(new: CSR, request: CSR) -> None:
    new.status.CopyFrom(request.status)


def _prepare_status(new: CSR, old: CSR) -> None:
    """The signer's write keeps the Approved and Denied conditions as they are
    (preserveConditionInstances); adding or removing one is refused by validation."""
    new.spec.CopyFrom(old.spec)
    for type_ in (validation.APPROVED, validation.DENIED):
        kept = [c for c in old.status.conditions if c.type == type_]
        mine = [i for i, c in enumerate(new.status.conditions) if c.type == type_]
        if len(kept) == len(mine):
            for i, c in zip(mine, kept, strict=True):
                new.status.conditions[i].CopyFrom(c)
    _populate_condition_times(new, old)


def _take_conditions(new: CSR, request: CSR) -> None:
    del new.status.conditions[:]
    new.status.conditions.extend(request.status.conditions)


def _prepare_approval(new: CSR, old: CSR) -> None:
    """The approver's write changes the conditions alone."""
    new.spec.CopyFrom(old.spec)
    new.status.certificate = old.status.certificate
    _populate_condition_times(new, old)


STRATEGIES: tuple[Strategy[Any], ...] = (
    Strategy(
        resources.CERTIFICATE_SIGNING_REQUEST,
        validation.certificate_signing_request,
        validation.certificate_signing_request_update,
        _fields,
        prepare_for_create=_prepare_for_create,
        selectable=frozenset({"spec.signerName"}),
        prepare_for_update=_prepare_for_update,
        status_writes={
            "status": StatusWrite(
                _take_status, _prepare_status, validation.certificate_signing_request_status_update
            ),
            "approval": StatusWrite(
                _take_conditions,
                _prepare_approval,
                validation.certificate_signing_request_approval_update,
            ),
        },
    ),
)
