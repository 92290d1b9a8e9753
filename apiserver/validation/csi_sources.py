"""CSI volume sources, a pod's inline one and a persistent volume's (kubernetes
pkg/apis/core/validation: ValidateCSIDriverName, validateCSIVolumeSource,
validateCSIPersistentVolumeSource and validatePVSecretReference)."""

from __future__ import annotations

from apiserver.validation import fields
from apiserver.validation.fields import FieldError
from podplane.api.core.v1 import core_pb2

MAX_CSI_DRIVER_NAME = 63


def csi_driver_name(path: str, name: str) -> list[FieldError]:
    """ValidateCSIDriverName: a DNS subdomain (any case) of at most 63 characters."""
    errs: list[FieldError] = []
    if not name:
        errs.append(fields.required(path))
    if len(name) > MAX_CSI_DRIVER_NAME:
        errs.append(
            fields.FieldError(
                path, "Too long", None, f"must have at most {MAX_CSI_DRIVER_NAME} bytes"
            )
        )
    errs += [
        fields.invalid(path, name, e.detail) for e in fields.dns1123_subdomain(path, name.lower())
    ]
    return errs


def csi(path: str, source: core_pb2.CSIVolumeSource) -> list[FieldError]:
    errs = csi_driver_name(f"{path}.driver", source.driver)
    if source.HasField("node_publish_secret_ref"):
        name = source.node_publish_secret_ref.name
        if not name:
            errs.append(fields.required(f"{path}.nodePublishSecretRef.name"))
        else:
            # Kubernetes names the source's path, not the reference's.
            errs += fields.dns1123_subdomain(f"{path}.name", name)
    return errs


def _pv_secret_reference(path: str, ref: core_pb2.SecretReference) -> list[FieldError]:
    """validatePVSecretReference: a secret's name (DNS subdomain) and namespace (DNS label)."""
    errs: list[FieldError] = []
    if not ref.name:
        errs.append(fields.required(f"{path}.name"))
    else:
        errs += fields.dns1123_subdomain(f"{path}.name", ref.name)
    if not ref.namespace:
        errs.append(fields.required(f"{path}.namespace"))
    else:
        errs += fields.dns1123_label(f"{path}.namespace", ref.namespace)
    return errs


def csi_persistent(path: str, source: core_pb2.CSIPersistentVolumeSource) -> list[FieldError]:
    errs = csi_driver_name(f"{path}.driver", source.driver)
    errs += [] if source.volume_handle else [fields.required(f"{path}.volumeHandle")]
    for name, json_name in (
        ("controller_publish_secret_ref", "controllerPublishSecretRef"),
        ("controller_expand_secret_ref", "controllerExpandSecretRef"),
        ("node_publish_secret_ref", "nodePublishSecretRef"),
        ("node_expand_secret_ref", "nodeExpandSecretRef"),
    ):
        if source.HasField(name):
            errs += _pv_secret_reference(f"{path}.{json_name}", getattr(source, name))
    return errs
