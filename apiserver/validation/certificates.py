"""CertificateSigningRequest validation (kubernetes pkg/apis/certificates/validation): the request
a PEM CERTIFICATE REQUEST whose signature holds, the signer a qualified name, the usages known and
each once, at least 600 s asked for; conditions Approved and Denied exclusive and True, each type
once; status.certificate only CERTIFICATE blocks. An update keeps the spec and every Approved,
Denied and Failed condition; what else it may change depends on the subresource it goes through
(approval: the Approved and Denied conditions; status: the certificate, once)."""

from __future__ import annotations

from dataclasses import dataclass

from apiserver.validation import fields
from apiserver.validation.fields import FieldError
from apiserver.validation.meta import object_meta
from podplane.api.certificates.v1 import certificates_pb2
from podplane.apimachinery import pem

CSR = certificates_pb2.CertificateSigningRequest

APPROVED, DENIED, FAILED = "Approved", "Denied", "Failed"
LEGACY_UNKNOWN_SIGNER = "kubernetes.io/legacy-unknown"
KEY_USAGES = (
    "any",
    "cert sign",
    "client auth",
    "code signing",
    "content commitment",
    "crl sign",
    "data encipherment",
    "decipher only",
    "digital signature",
    "email protection",
    "encipher only",
    "ipsec end system",
    "ipsec tunnel",
    "ipsec user",
    "key agreement",
    "key encipherment",
    "microsoft sgc",
    "netscape sgc",
    "ocsp signing",
    "s/mime",
    "server auth",
    "signing",
    "timestamping",
)
_TRUE_ONLY = (APPROVED, DENIED, FAILED)
_ALL_STATUSES = ("False", "True", "Unknown")
MIN_EXPIRATION_SECONDS = 600
_MAX_DOMAIN = 253
_MAX_SIGNER_NAME = _MAX_DOMAIN + (253 + 63 + 1) + 1


class GoBytes(bytes):
    """A []byte as Go's %#v shows it in a field error: []byte{0x2d, 0x2d, ...}."""

    def __str__(self) -> str:
        return "[]byte{" + ", ".join(f"0x{b:x}" for b in self) + "}"


@dataclass(frozen=True)
class Options:
    """What an update may do besides the spec's rules (certificateValidationOptions): the
    subresource's permissions, and tolerance of faults the stored object already has."""

    allow_setting_approval_conditions: bool = False
    allow_setting_certificate: bool = False
    allow_both_approved_and_denied: bool = False
    allow_legacy_signer_name: bool = False
    allow_duplicate_condition_types: bool = False
    allow_empty_condition_type: bool = False
    allow_arbitrary_certificate: bool = False
    allow_unknown_usages: bool = False
    allow_duplicate_usages: bool = False


def signer_name(path: str, name: str) -> list[FieldError]:
    """ValidateSignerName: <domain of two labels or more>/<subdomain components>."""
    if not name:
        return [fields.required(path)]
    segments = name.split("/")
    if len(segments) != 2:
        return [
            fields.invalid(
                path,
                name,
                "must be a fully qualified domain and path of the form 'example.com/signer-name'",
            )
        ]
    domain, rest = segments
    errs: list[FieldError] = []
    if len(domain) > _MAX_DOMAIN:
        errs.append(FieldError(path, "Too long", None, f"may not be more than {_MAX_DOMAIN} bytes"))
    labels = domain.split(".")
    for label in labels:
        found = fields.dns1123_label(path, label)
        if found:
            errs += [
                fields.invalid(path, domain, f'validating label "{label}": {e.detail}')
                for e in found
            ]
            break
    if len(labels) < 2:
        errs.append(
            fields.invalid(
                path, domain, "should be a domain with at least two segments separated by dots"
            )
        )
    for component in rest.split("."):
        found = fields.dns1123_subdomain(path, component)
        if found:
            errs += [
                fields.invalid(path, rest, f'validating label "{component}": {e.detail}')
                for e in found
            ]
            break
    if len(name) > _MAX_SIGNER_NAME:
        errs.append(
            FieldError(path, "Too long", None, f"may not be more than {_MAX_SIGNER_NAME} bytes")
        )
    return errs


def _no_name_rule(path: str, name: str) -> list[FieldError]:
    return []  # "We don't care what you call your certificate requests."


def _conditions(csr: CSR, opts: Options) -> list[FieldError]:
    errs: list[FieldError] = []
    seen: set[str] = set()
    approved = denied = False
    for i, c in enumerate(csr.status.conditions):
        path = f"status.conditions[{i}]"
        if not opts.allow_empty_condition_type and not c.type:
            errs.append(fields.required(f"{path}.type"))
        allowed = ("True",) if c.type in _TRUE_ONLY else _ALL_STATUSES
        if not c.status:
            errs.append(fields.required(f"{path}.status"))
        elif c.status not in allowed:
            errs.append(fields.unsupported(f"{path}.status", c.status, allowed))
        if not opts.allow_both_approved_and_denied:
            if c.type == APPROVED:
                approved = True
                if denied:
                    errs.append(_exclusive(path, c.type))
            elif c.type == DENIED:
                denied = True
                if approved:
                    errs.append(_exclusive(path, c.type))
        if not opts.allow_duplicate_condition_types:
            if c.type in seen:
                errs.append(fields.duplicate(f"{path}.type", c.type))
            seen.add(c.type)
    return errs


def _exclusive(path: str, type_: str) -> FieldError:
    return fields.invalid(
        f"{path}.type", type_, "Approved and Denied conditions are mutually exclusive"
    )


def certificate_error(data: bytes) -> str | None:
    """What is wrong with status.certificate (validateCertificate), None if nothing."""
    if not data:
        return None
    blocks = pem.decode_all(data)
    if not blocks:
        return "must contain at least one CERTIFICATE PEM block"
    for block in blocks:
        if block.type != "CERTIFICATE":
            return f'only CERTIFICATE PEM blocks are allowed, found "{block.type}"'
        if block.headers:
            return "no PEM block headers are permitted"
        problem = pem.certificate_error(block.data)
        if problem:
            return problem
    return None


def _validate(csr: CSR, opts: Options) -> list[FieldError]:
    errs = object_meta(csr.metadata, namespaced=False, name_rule=_no_name_rule)
    spec = csr.spec
    problem = pem.certificate_request_error(spec.request)
    if problem:
        errs.append(fields.invalid("spec.request", GoBytes(spec.request), problem))
    if not spec.usages:
        errs.append(fields.required("spec.usages"))
    if not opts.allow_unknown_usages:
        errs += [
            fields.unsupported(f"spec.usages[{i}]", u, KEY_USAGES)
            for i, u in enumerate(spec.usages)
            if u not in KEY_USAGES
        ]
    if not opts.allow_duplicate_usages:
        seen: set[str] = set()
        for i, u in enumerate(spec.usages):
            if u in seen:
                errs.append(fields.duplicate(f"spec.usages[{i}]", u))
            seen.add(u)
    if not opts.allow_legacy_signer_name and spec.signer_name == LEGACY_UNKNOWN_SIGNER:
        errs.append(
            fields.invalid(
                "spec.signerName",
                spec.signer_name,
                "the legacy signerName is not allowed via this API version",
            )
        )
    else:
        errs += signer_name("spec.signerName", spec.signer_name)
    if spec.HasField("expiration_seconds") and spec.expiration_seconds < MIN_EXPIRATION_SECONDS:
        errs.append(
            fields.invalid(
                "spec.expirationSeconds",
                spec.expiration_seconds,
                "may not specify a duration less than 600 seconds (10 minutes)",
            )
        )
    errs += _conditions(csr, opts)
    if not opts.allow_arbitrary_certificate:
        problem = certificate_error(csr.status.certificate)
        if problem:
            errs.append(fields.invalid("status.certificate", "<certificate data>", problem))
    return errs


def certificate_signing_request(csr: CSR) -> list[FieldError]:
    """ValidateCertificateSigningRequestCreate."""
    return _validate(csr, _options(csr, None))


def _of_type(csr: CSR, type_: str) -> list[certificates_pb2.CertificateSigningRequestCondition]:
    return [c for c in csr.status.conditions if c.type == type_]


def _options(new: CSR, old: CSR | None, **subresource: bool) -> Options:
    """getValidationOptions: faults the stored object has are tolerated."""
    if old is None:
        return Options(**subresource)
    types = [c.type for c in old.status.conditions]
    usages = list(old.spec.usages)
    return Options(
        allow_both_approved_and_denied=APPROVED in types and DENIED in types,
        allow_legacy_signer_name=old.spec.signer_name == LEGACY_UNKNOWN_SIGNER,
        allow_duplicate_condition_types=len(set(types)) != len(types),
        allow_empty_condition_type="" in types,
        allow_arbitrary_certificate=(
            new.status.certificate == old.status.certificate
            or certificate_error(old.status.certificate) is not None
        ),
        allow_unknown_usages=any(u not in KEY_USAGES for u in usages),
        allow_duplicate_usages=len(set(usages)) != len(usages),
        **subresource,
    )


def _update(new: CSR, old: CSR, opts: Options) -> list[FieldError]:
    errs = _validate(new, opts)
    for t in (APPROVED, DENIED, FAILED):
        if len(_of_type(new, t)) < len(_of_type(old, t)):
            errs.append(
                fields.forbidden(
                    "status.conditions", f'updates may not remove a condition of type "{t}"'
                )
            )
    if not opts.allow_setting_approval_conditions:
        for t in (APPROVED, DENIED):
            before, after = _of_type(old, t), _of_type(new, t)
            if len(after) > len(before):
                errs.append(
                    fields.forbidden(
                        "status.conditions", f'updates may not add a condition of type "{t}"'
                    )
                )
            elif len(after) == len(before) and after != before:
                errs.append(
                    fields.forbidden(
                        "status.conditions", f'updates may not modify a condition of type "{t}"'
                    )
                )
    if new.status.certificate != old.status.certificate:
        if not opts.allow_setting_certificate:
            errs.append(
                fields.forbidden("status.certificate", "updates may not set certificate content")
            )
        elif old.status.certificate:
            errs.append(
                fields.forbidden(
                    "status.certificate", "updates may not modify existing certificate content"
                )
            )
    return errs


def certificate_signing_request_update(new: CSR, old: CSR) -> list[FieldError]:
    """ValidateCertificateSigningRequestUpdate: an update of the object itself."""
    return _update(new, old, _options(new, old))


def certificate_signing_request_status_update(new: CSR, old: CSR) -> list[FieldError]:
    """ValidateCertificateSigningRequestStatusUpdate: the signer's write, the certificate too."""
    return _update(new, old, _options(new, old, allow_setting_certificate=True))


def certificate_signing_request_approval_update(new: CSR, old: CSR) -> list[FieldError]:
    """ValidateCertificateSigningRequestApprovalUpdate: the approver's write, Approved or
    Denied."""
    return _update(new, old, _options(new, old, allow_setting_approval_conditions=True))
