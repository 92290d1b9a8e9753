"""The certificates API's admission plugins (kubernetes plugin/pkg/admission/certificates):
CertificateApproval (an approval needs `approve` on the request's signer), CertificateSigning (a
status write that changes the certificate or the conditions needs `sign` on it) and
CertificateSubjectRestriction (no kube-apiserver-client request for the system:masters group).
A signer is the resource `signers` of certificates.k8s.io named by the signerName, or by
`<domain>/*` for every signer of the domain. Writes without a user (the apiserver's own) pass."""

from __future__ import annotations

from collections.abc import Callable

from apiserver import errors
from apiserver.admission.attributes import CREATE, UPDATE, Attributes
from apiserver.admission.interfaces import Handler, Scope
from apiserver.auth.user import MASTERS_GROUP, UserInfo
from podplane.api.certificates.v1 import certificates_pb2
from podplane.apimachinery import pem, resources

APPROVAL_NAME = "CertificateApproval"
SIGNING_NAME = "CertificateSigning"
SUBJECT_RESTRICTION_NAME = "CertificateSubjectRestriction"
GROUP = "certificates.k8s.io"
KUBE_APISERVER_CLIENT = "kubernetes.io/kube-apiserver-client"

# Whether a user may `verb` the signers resource (group certificates.k8s.io) of that name: the
# apiserver's authorizer.
AuthorizeSigner = Callable[[UserInfo, str, str], bool]

CSR = certificates_pb2.CertificateSigningRequest


def authorized_for_signer(may: AuthorizeSigner, user: UserInfo, verb: str, signer: str) -> bool:
    """IsAuthorizedForSignerName: the signer by name, else every signer of its domain."""
    if may(user, verb, signer):
        return True
    domain = signer.split("/")[0]
    return may(user, verb, f"{domain}/*")


def _forbidden(csr: CSR, reason: str) -> errors.APIError:
    return errors.forbidden(resources.CERTIFICATE_SIGNING_REQUEST, csr.metadata.name, reason)


class CertificateApproval(Handler):
    """Validating only, of updates of the approval subresource."""

    validate_scope = Scope((CSR,), subresources=True)

    def __init__(self, may: AuthorizeSigner) -> None:
        super().__init__(UPDATE)
        self.may = may

    async def validate(self, attrs: Attributes) -> None:
        new, user = attrs.object, attrs.user_info
        if attrs.subresource != "approval" or not isinstance(new, CSR) or user is None:
            return
        # The new object's signer, in case the approval tried to change it.
        signer = new.spec.signer_name
        if not authorized_for_signer(self.may, user, "approve", signer):
            raise _forbidden(
                new, f'user not permitted to approve requests with signerName "{signer}"'
            )


class CertificateSigning(Handler):
    """Validating only, of updates of the status subresource."""

    validate_scope = Scope((CSR,), subresources=True)

    def __init__(self, may: AuthorizeSigner) -> None:
        super().__init__(UPDATE)
        self.may = may

    async def validate(self, attrs: Attributes) -> None:
        new, old, user = attrs.object, attrs.old_object, attrs.user_info
        if attrs.subresource != "status" or not isinstance(new, CSR) or user is None:
            return
        assert isinstance(old, CSR)
        if (
            new.status.certificate == old.status.certificate
            and new.status.conditions == old.status.conditions
        ):
            return
        signer = old.spec.signer_name
        if not authorized_for_signer(self.may, user, "sign", signer):
            raise _forbidden(new, f'user not permitted to sign requests with signerName "{signer}"')


class CertificateSubjectRestriction(Handler):
    """A kube-apiserver-client certificate for the system:masters group would be a cluster
    admin's credential no RBAC can take away: refused at creation. Validating only."""

    validate_scope = Scope((CSR,))

    def __init__(self) -> None:
        super().__init__(CREATE)

    async def validate(self, attrs: Attributes) -> None:
        obj = attrs.object
        if attrs.subresource or not isinstance(obj, CSR):
            return
        if obj.spec.signer_name != KUBE_APISERVER_CLIENT:
            return
        try:
            request = pem.parse_certificate_request(obj.spec.request)
        except ValueError:
            return  # validation says what is wrong with it
        if MASTERS_GROUP in pem.organizations(request):
            raise _forbidden(
                obj,
                f'use of "{KUBE_APISERVER_CLIENT}" signer with "{MASTERS_GROUP}" group '
                "is not allowed",
            )
