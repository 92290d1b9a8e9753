"""The downwardAPI and projected volume sources (pkg/apis/core/validation:
validateDownwardAPIVolumeSource, validateProjectedVolumeSource and what they call), with Kubernetes'
paths and messages, including its quirk of naming a downwardAPI item's errors by the volume's path
rather than the item's index."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from apiserver.validation import fields
from apiserver.validation.fields import FieldError
from apiserver.validation.generic_rules import shown
from apiserver.validation.paths import local_non_reserved_path
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import quantity

FILE_MODE_ERROR = "must be a number between 0 and 0777 (octal), both inclusive"
MIN_TOKEN_SECONDS = 10 * 60
MAX_TOKEN_SECONDS = 1 << 32

# What a downwardAPI file may show of the pod (validVolumeDownwardAPIFieldPathExpressions).
VOLUME_FIELD_PATHS = (
    "metadata.annotations",
    "metadata.labels",
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
)
# Env's fieldRef may read more than a volume (validEnvDownwardAPIFieldPathExpressions): the
# converter knows them, so a volume naming one is "not supported" rather than unknown.
_KNOWN_FIELD_LABELS = frozenset(
    {
        *VOLUME_FIELD_PATHS,
        "spec.nodeName",
        "spec.restartPolicy",
        "spec.schedulerName",
        "spec.serviceAccountName",
        "spec.hostNetwork",
        "status.phase",
        "status.hostIP",
        "status.hostIPs",
        "status.podIP",
        "status.podIPs",
    }
)
RESOURCE_FIELD_PATHS = (
    "limits.cpu",
    "limits.ephemeral-storage",
    "limits.memory",
    "requests.cpu",
    "requests.ephemeral-storage",
    "requests.memory",
)
_HUGEPAGES_PREFIXES = ("limits.hugepages-", "requests.hugepages-")
_BYTE_DIVISORS = ("1", "1k", "1M", "1G", "1T", "1P", "1E", "1Ki", "1Mi", "1Gi", "1Ti", "1Pi", "1Ei")
_BYTE_DIVISORS_TEXT = ", ".join(_BYTE_DIVISORS)
# Their values: 1, then the decimal and the binary powers k..E and Ki..Ei.
_CPU_DIVISOR_VALUES = frozenset({Decimal("0.001"), Decimal(1)})
_BYTE_DIVISOR_VALUES = frozenset(
    {Decimal(1)}
    | {Decimal(1000) ** n for n in range(1, 7)}
    | {Decimal(1024) ** n for n in range(1, 7)}
)


def _mode(path: str, value: int) -> list[FieldError]:
    return [fields.invalid(path, value, FILE_MODE_ERROR)] if not 0 <= value <= 0o777 else []


def key_to_path(path: str, kp: core_pb2.KeyToPath) -> list[FieldError]:
    errs: list[FieldError] = []
    if not kp.key:
        errs.append(fields.required(f"{path}.key"))
    if not kp.path:
        errs.append(fields.required(f"{path}.path"))
    errs += local_non_reserved_path(f"{path}.path", kp.path)
    if kp.HasField("mode"):
        errs += _mode(f"{path}.mode", kp.mode)
    return errs


def _split_subscript(field_path: str) -> tuple[str, str] | None:
    """metadata.labels['key'] -> (metadata.labels, key) (fieldpath.SplitMaybeSubscriptedPath)."""
    if not field_path.endswith("']"):
        return None
    head, sep, rest = field_path.partition("['")
    return (head, rest[:-2]) if sep else None


def object_field_selector(
    path: str, fs: core_pb2.ObjectFieldSelector, expressions: Iterable[str]
) -> list[FieldError]:
    """validateObjectFieldSelector, for the field paths `expressions` allows."""
    if not fs.api_version:
        return [fields.required(f"{path}.apiVersion")]
    if not fs.field_path:
        return [fields.required(f"{path}.fieldPath")]
    subscripted = _split_subscript(fs.field_path)
    if fs.api_version != "v1":
        detail = f"error converting fieldPath: unsupported pod version: {fs.api_version}"
        return [fields.invalid(f"{path}.fieldPath", fs.field_path, detail)]
    if subscripted is not None:
        head, key = subscripted
        if head == "metadata.annotations":
            return fields.qualified_name(path, key.lower())
        if head == "metadata.labels":
            return fields.qualified_name(path, key)
        if head not in _KNOWN_FIELD_LABELS:
            detail = f"error converting fieldPath: field label not supported: {head}"
            return [fields.invalid(f"{path}.fieldPath", fs.field_path, detail)]
        return [fields.invalid(path, head, "does not support subscript")]
    if fs.field_path not in _KNOWN_FIELD_LABELS:
        detail = f"error converting fieldPath: field label not supported: {fs.field_path}"
        return [fields.invalid(f"{path}.fieldPath", fs.field_path, detail)]
    if fs.field_path not in expressions:
        return [fields.unsupported(f"{path}.fieldPath", fs.field_path, sorted(expressions))]
    return []


def _divisor(path: str, resource: str, divisor: str) -> list[FieldError]:
    """validateContainerResourceDivisor: cpu in 1m or 1, bytes in a power of 1000 or 1024."""
    if not divisor:
        return []
    try:
        value = quantity.parse(divisor)
    except (quantity.QuantityError, ValueError) as e:
        return [fields.invalid(f"{path}.divisor", divisor, str(e))]
    if value == 0:
        return []
    if resource in ("limits.cpu", "requests.cpu"):
        allowed, what = _CPU_DIVISOR_VALUES, "1m and 1 are supported with the cpu resource"
    elif resource in ("limits.memory", "requests.memory"):
        allowed, what = _BYTE_DIVISOR_VALUES, f"{_BYTE_DIVISORS_TEXT} are supported with the memory"
        what += " resource"
    elif resource in ("limits.ephemeral-storage", "requests.ephemeral-storage"):
        allowed = _BYTE_DIVISOR_VALUES
        what = f"{_BYTE_DIVISORS_TEXT} are supported with the local ephemeral storage resource"
    elif resource.startswith(_HUGEPAGES_PREFIXES):
        allowed = _BYTE_DIVISOR_VALUES
        what = f"{_BYTE_DIVISORS_TEXT} are supported with the hugepages resource"
    else:
        return []
    if value not in allowed:
        return [fields.invalid(f"{path}.divisor", resource, f"only divisor's values {what}")]
    return []


def resource_field_selector(path: str, fs: core_pb2.ResourceFieldSelector) -> list[FieldError]:
    """validateContainerResourceFieldSelector for a volume (the container must be named)."""
    errs: list[FieldError] = []
    if not fs.container_name:
        errs.append(fields.required(f"{path}.containerName"))
    elif not fs.resource:
        errs.append(fields.required(f"{path}.resource"))
    elif fs.resource not in RESOURCE_FIELD_PATHS and not fs.resource.startswith(
        _HUGEPAGES_PREFIXES
    ):
        errs.append(fields.unsupported(f"{path}.resource", fs.resource, RESOURCE_FIELD_PATHS))
    return errs + _divisor(path, fs.resource, fs.divisor)


def downward_api_file(path: str, f: core_pb2.DownwardAPIVolumeFile) -> list[FieldError]:
    """validateDownwardAPIVolumeFile; `path` is the volume's (or projection's), not the item's."""
    errs: list[FieldError] = []
    if not f.path:
        errs.append(fields.required(f"{path}.path"))
    errs += local_non_reserved_path(f"{path}.path", f.path)
    if f.HasField("field_ref"):
        errs += object_field_selector(f"{path}.fieldRef", f.field_ref, VOLUME_FIELD_PATHS)
        if f.HasField("resource_field_ref"):
            errs.append(
                fields.invalid(
                    path,
                    "resource",
                    "fieldRef and resourceFieldRef can not be specified simultaneously",
                )
            )
    elif f.HasField("resource_field_ref"):
        errs += resource_field_selector(f"{path}.resourceFieldRef", f.resource_field_ref)
    else:
        errs.append(fields.required(path, "one of fieldRef and resourceFieldRef is required"))
    if f.HasField("mode"):
        errs += _mode(f"{path}.mode", f.mode)
    return errs


def downward_api(path: str, source: core_pb2.DownwardAPIVolumeSource) -> list[FieldError]:
    errs: list[FieldError] = []
    if source.HasField("default_mode"):
        errs += _mode(f"{path}.defaultMode", source.default_mode)
    for f in source.items:
        errs += downward_api_file(path, f)
    return errs


def projected(path: str, source: core_pb2.ProjectedVolumeSource) -> list[FieldError]:
    """validateProjectedVolumeSource: each source one kind; no two files at one path."""
    errs: list[FieldError] = []
    if source.HasField("default_mode"):
        errs += _mode(f"{path}.defaultMode", source.default_mode)
    seen: set[str] = set()

    def claim(file_path: str, shown: str) -> None:
        if not file_path:
            return
        if file_path in seen:
            errs.append(fields.invalid(path, shown, "conflicting duplicate paths"))
        seen.add(file_path)

    for i, s in enumerate(source.sources):
        src = f"{path}.sources[{i}]"
        kinds = 0
        for name, json_name in (("secret", "secret"), ("config_map", "configMap")):
            if not s.HasField(name):
                continue
            kinds += 1
            keys: core_pb2.SecretProjection | core_pb2.ConfigMapProjection = getattr(s, name)
            if not keys.name:
                errs.append(fields.required(f"{src}.{json_name}.name"))
            for j, kp in enumerate(keys.items):
                errs += key_to_path(f"{src}.{json_name}.items[{j}]", kp)
                claim(kp.path, keys.name)
        if s.HasField("downward_api"):
            kinds += 1
            for f in s.downward_api.items:
                errs += downward_api_file(f"{src}.downwardAPI", f)
                claim(f.path, f.path)
        if s.HasField("service_account_token"):
            kinds += 1
            token = s.service_account_token
            seconds = token.expiration_seconds
            if seconds < MIN_TOKEN_SECONDS:
                errs.append(
                    fields.invalid(
                        f"{src}.serviceAccountToken.expirationSeconds",
                        seconds,
                        "may not specify a duration less than 10 minutes",
                    )
                )
            if seconds > MAX_TOKEN_SECONDS:
                errs.append(
                    fields.invalid(
                        f"{src}.serviceAccountToken.expirationSeconds",
                        seconds,
                        "may not specify a duration larger than 2^32 seconds",
                    )
                )
            # Kubernetes names the volume's path here, not the token's.
            if not token.path:
                errs.append(fields.required(f"{path}.path"))
            else:
                errs += local_non_reserved_path(f"{path}.path", token.path)
        if s.HasField("cluster_trust_bundle"):
            kinds += 1
            errs += _cluster_trust_bundle(f"{src}.clusterTrustBundle", s.cluster_trust_bundle)
            claim(s.cluster_trust_bundle.path, s.cluster_trust_bundle.path)
        if kinds > 1:
            errs.append(fields.forbidden(src, "may not specify more than 1 volume type per source"))
    return errs


def _cluster_trust_bundle(
    path: str, source: core_pb2.ClusterTrustBundleProjection
) -> list[FieldError]:
    """A trust bundle by name or by signer, and the file it is written to. (Alpha in 1.31 and off
    by default: a new pod's are dropped; only a pod that had one keeps it.)"""
    errs: list[FieldError] = []
    by_name, by_signer = source.HasField("name"), source.HasField("signer_name")
    if by_name and by_signer:
        errs.append(
            fields.invalid(path, shown(source), "only one of name and signerName may be used")
        )
    elif by_name and not source.name:
        errs.append(fields.required(f"{path}.name", "must be a valid object name"))
    elif by_signer and not source.signer_name:
        errs.append(fields.required(f"{path}.signerName", "must be a valid signer name"))
    elif not by_name and not by_signer:
        errs.append(fields.required(path, "either name or signerName must be specified"))
    if not source.path:
        errs.append(fields.required(f"{path}.path"))
    return errs + local_non_reserved_path(f"{path}.path", source.path)
