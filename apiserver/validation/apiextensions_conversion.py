"""A CustomResourceDefinition's spec.conversion (apiextensions validation.go
validateCustomResourceConversion), with Kubernetes' field paths (the internal type's:
spec.conversion.webhookClientConfig, spec.conversion.conversionReviewVersions) and texts:
strategy None or Webhook; Webhook needs a client configuration (url xor service, https) and
conversionReviewVersions including v1 or v1beta1 (unless an update keeps a definition that
already had none of them); None forbids both. A caBundle that is not PEM
certificates is refused on an update of an established definition whose stored bundle was
valid (allowInvalidCABundle), as Kubernetes does."""

from __future__ import annotations

from cryptography import x509

from apiserver.validation import fields
from apiserver.validation.admission_rules import webhook_service, webhook_url
from apiserver.validation.fields import FieldError
from apiserver.validation.generic_rules import Shown
from podplane.api.apiextensions.v1 import apiextensions_pb2
from podplane.apimachinery.apiextensions import definitions
from podplane.apimachinery.apiextensions.definitions import CRD

NONE, WEBHOOK = "None", "Webhook"
STRATEGIES = (NONE, WEBHOOK)
# The ConversionReview versions a definition may name (acceptedConversionReviewVersions).
CONVERSION_REVIEW_VERSIONS = ("v1", "v1beta1")
_NOT_WEBHOOK = "should not be set when strategy is not set to Webhook"
_PATH = "spec.conversion"


def conversion(crd: CRD, old: CRD | None) -> list[FieldError]:
    spec = crd.spec
    if not spec.HasField("conversion"):
        return []
    conv = spec.conversion
    errs: list[FieldError] = []
    if not conv.strategy:
        errs.append(fields.required(f"{_PATH}.strategy"))
    elif conv.strategy not in STRATEGIES:
        errs.append(fields.unsupported(f"{_PATH}.strategy", conv.strategy, STRATEGIES))
    has_config = conv.HasField("webhook") and conv.webhook.HasField("client_config")
    versions = list(conv.webhook.conversion_review_versions)
    if conv.strategy != WEBHOOK:
        if has_config:
            errs.append(fields.forbidden(f"{_PATH}.webhookClientConfig", _NOT_WEBHOOK))
        if versions:
            errs.append(fields.forbidden(f"{_PATH}.conversionReviewVersions", _NOT_WEBHOOK))
        return errs
    if not has_config:
        errs.append(
            fields.required(
                f"{_PATH}.webhookClientConfig", "required when strategy is set to Webhook"
            )
        )
    else:
        errs += _client_config(conv.webhook.client_config, _allow_invalid_ca_bundle(old))
    errs += conversion_review_versions(
        versions, f"{_PATH}.conversionReviewVersions", _require_recognized(old)
    )
    return errs


def _require_recognized(old: CRD | None) -> bool:
    """requireRecognizedConversionReviewVersion: always on a create; on an update, unless the
    stored definition already named only versions the server does not know."""
    if old is None or not old.spec.HasField("conversion"):
        return True
    stored = old.spec.conversion.webhook.conversion_review_versions
    return not stored or any(v in CONVERSION_REVIEW_VERSIONS for v in stored)


def _client_config(
    config: apiextensions_pb2.WebhookClientConfig, allow_invalid_ca_bundle: bool
) -> list[FieldError]:
    path = f"{_PATH}.webhookClientConfig"
    errs: list[FieldError] = []
    if config.HasField("url") == config.HasField("service"):
        errs.append(fields.required(path, "exactly one of url or service is required"))
    elif config.HasField("url"):
        errs += webhook_url(f"{path}.url", config.url)
    else:
        errs += webhook_service(f"{path}.service", config.service)  # type: ignore[arg-type]
    if config.ca_bundle and not allow_invalid_ca_bundle:
        errs += ca_bundle(f"{path}.caBundle", config.ca_bundle)
    return errs


def ca_bundle(path: str, data: bytes) -> list[FieldError]:
    """webhook.ValidateCABundle: client-go's cert.ParseCertsPEM must find a certificate."""
    if _parses(data):
        return []
    shown = Shown("[]byte{" + ", ".join(f"0x{b:x}" for b in data) + "}")
    return [
        fields.invalid(path, shown, "data does not contain any valid RSA or ECDSA certificates")
    ]


def _parses(data: bytes) -> bool:
    try:
        return bool(x509.load_pem_x509_certificates(data))
    except ValueError:
        return False


def _allow_invalid_ca_bundle(old: CRD | None) -> bool:
    """allowInvalidCABundle: on a create, on an update of a definition not established, or of
    one whose stored bundle is not valid either."""
    if old is None or not definitions.is_true(old, definitions.ESTABLISHED):
        return True
    conv = old.spec.conversion
    stored = conv.webhook.client_config.ca_bundle if conv.HasField("webhook") else b""
    if not stored:
        return False
    return not _parses(stored)


def conversion_review_versions(
    versions: list[str], path: str, require_recognized: bool = True
) -> list[FieldError]:
    """validateConversionReviewVersions."""
    if not versions:
        return [fields.required(path)]
    errs: list[FieldError] = []
    seen: set[str] = set()
    for i, v in enumerate(versions):
        if v in seen:
            errs.append(fields.invalid(f"{path}[{i}]", v, "duplicate version"))
            continue
        seen.add(v)
        errs += fields.dns1035_label(f"{path}[{i}]", v)
    if require_recognized and not seen & set(CONVERSION_REVIEW_VERSIONS):
        shown = Shown("[]string{" + ", ".join(fields.go_quote(v) for v in versions) + "}")
        accepted = ", ".join(CONVERSION_REVIEW_VERSIONS)
        errs.append(fields.invalid(path, shown, f"must include at least one of {accepted}"))
    return errs
