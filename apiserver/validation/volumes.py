"""A pod's volumes (kubernetes pkg/apis/core/validation: ValidateVolumes, validateVolumeSource):
each named once, of exactly one source (the first one set, in Kubernetes' order, counts; the
others are refused), each source by its own rules. Kubernetes' quirks are kept: a GCE disk's
errors are named `gcePersistentDisk`'s as `persistentDisk`, a second downwardAPI is `downwarAPI`."""

from __future__ import annotations

from collections.abc import Mapping

from apiserver.validation import csi_sources, fields, storage, volume_plugins, volume_sources
from apiserver.validation.fields import FieldError
from apiserver.validation.volume_plugins import Source
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import quantity

PULL_POLICIES = ("Always", "IfNotPresent", "Never")
MORE_THAN_ONE = "may not specify more than 1 volume type"
# The ObjectMeta fields a claim template may set; any other is refused.
_TEMPLATE_META_ALLOWED = frozenset({"labels", "annotations"})


def _empty_dir(path: str, source: core_pb2.EmptyDirVolumeSource) -> list[FieldError]:
    if source.size_limit:
        try:
            negative = quantity.parse(source.size_limit) < 0
        except quantity.QuantityError:
            negative = False  # the decoder refuses what is no quantity
        if negative:
            return [
                fields.forbidden(
                    f"{path}.sizeLimit", "SizeLimit field must be a valid resource quantity"
                )
            ]
    return []


def _secret(path: str, source: core_pb2.SecretVolumeSource) -> list[FieldError]:
    errs = [] if source.secret_name else [fields.required(f"{path}.secretName")]
    return errs + _keys(path, source)


def _config_map(path: str, source: core_pb2.ConfigMapVolumeSource) -> list[FieldError]:
    errs = [] if source.name else [fields.required(f"{path}.name")]
    return errs + _keys(path, source)


def _keys(
    path: str, source: core_pb2.SecretVolumeSource | core_pb2.ConfigMapVolumeSource
) -> list[FieldError]:
    errs: list[FieldError] = []
    if source.HasField("default_mode") and not 0 <= source.default_mode <= 0o777:
        errs.append(
            fields.invalid(
                f"{path}.defaultMode", source.default_mode, volume_sources.FILE_MODE_ERROR
            )
        )
    for i, kp in enumerate(source.items):
        errs += volume_sources.key_to_path(f"{path}.items[{i}]", kp)
    return errs


def _claim(path: str, source: core_pb2.PersistentVolumeClaimVolumeSource) -> list[FieldError]:
    return [] if source.claim_name else [fields.required(f"{path}.claimName")]


def claim_template(path: str, template: core_pb2.PersistentVolumeClaimTemplate) -> list[FieldError]:
    """ValidatePersistentVolumeClaimTemplate: labels and annotations only, and a claim's spec."""
    meta = template.metadata
    errs = fields.annotation_map(f"{path}.metadata.annotations", meta.annotations)
    errs += fields.label_map(f"{path}.metadata.labels", meta.labels)
    errs += [
        fields.forbidden(f"{path}.metadata.{descriptor.json_name}", "cannot be set")
        for descriptor, _ in meta.ListFields()
        if descriptor.name not in _TEMPLATE_META_ALLOWED
    ]
    return errs + storage.persistent_volume_claim_spec(template.spec, f"{path}.spec")


def _ephemeral(path: str, source: core_pb2.EphemeralVolumeSource) -> list[FieldError]:
    if not source.HasField("volume_claim_template"):
        return [fields.required(f"{path}.volumeClaimTemplate")]
    return claim_template(f"{path}.volumeClaimTemplate", source.volume_claim_template)


def _image(path: str, source: core_pb2.ImageVolumeSource) -> list[FieldError]:
    errs = [] if source.reference else [fields.required(f"{path}.reference")]
    if not source.pull_policy:
        errs.append(fields.required(f"{path}.pullPolicy"))
    elif source.pull_policy not in PULL_POLICIES:
        errs.append(fields.unsupported(f"{path}.pullPolicy", source.pull_policy, PULL_POLICIES))
    return errs


# In the order validateVolumeSource looks at them.
SOURCES = (
    Source("empty_dir", "emptyDir", "emptyDir", _empty_dir),
    Source("host_path", "hostPath", "hostPath", volume_plugins.host_path),
    Source("git_repo", "gitRepo", "gitRepo", volume_plugins.git_repo),
    Source(
        "gce_persistent_disk",
        "gcePersistentDisk",
        "persistentDisk",
        volume_plugins.gce_persistent_disk,
    ),
    Source(
        "aws_elastic_block_store",
        "awsElasticBlockStore",
        "awsElasticBlockStore",
        volume_plugins.aws_elastic_block_store,
    ),
    Source("secret", "secret", "secret", _secret),
    Source("nfs", "nfs", "nfs", volume_plugins.nfs),
    Source("iscsi", "iscsi", "iscsi", volume_plugins.iscsi),
    Source("glusterfs", "glusterfs", "glusterfs", volume_plugins.glusterfs),
    Source("flocker", "flocker", "flocker", volume_plugins.flocker),
    Source("persistent_volume_claim", "persistentVolumeClaim", "persistentVolumeClaim", _claim),
    Source("rbd", "rbd", "rbd", volume_plugins.rbd),
    Source("cinder", "cinder", "cinder", volume_plugins.cinder),
    Source("cephfs", "cephFS", "cephfs", volume_plugins.cephfs),
    Source("quobyte", "quobyte", "quobyte", volume_plugins.quobyte),
    Source("downward_api", "downwarAPI", "downwardAPI", volume_sources.downward_api),
    Source("fc", "fc", "fc", volume_plugins.fc),
    Source("flex_volume", "flexVolume", "flexVolume", volume_plugins.flex_volume),
    Source("config_map", "configMap", "configMap", _config_map),
    Source("azure_file", "azureFile", "azureFile", volume_plugins.azure_file),
    Source("vsphere_volume", "vsphereVolume", "vsphereVolume", volume_plugins.vsphere_volume),
    Source(
        "photon_persistent_disk",
        "photonPersistentDisk",
        "photonPersistentDisk",
        volume_plugins.photon_persistent_disk,
    ),
    Source("portworx_volume", "portworxVolume", "portworxVolume", volume_plugins.portworx_volume),
    Source("azure_disk", "azureDisk", "azureDisk", volume_plugins.azure_disk),
    Source("storageos", "storageos", "storageos", volume_plugins.storageos),
    Source("projected", "projected", "projected", volume_sources.projected),
    Source("scale_io", "scaleIO", "scaleIO", volume_plugins.scale_io),
    Source("csi", "csi", "csi", csi_sources.csi),
    Source("ephemeral", "ephemeral", "ephemeral", _ephemeral),
    Source("image", "image", "image", _image),
)


def volume_source(path: str, volume: core_pb2.Volume, pod_name: str) -> list[FieldError]:
    """validateVolumeSource: `pod_name` (empty in a template) names the claim of an ephemeral
    volume, `<pod>-<volume>`, which must be a valid name."""
    errs: list[FieldError] = []
    found = 0
    for source in SOURCES:
        if not volume.HasField(source.field):
            continue
        if found:
            errs.append(fields.forbidden(f"{path}.{source.name}", MORE_THAN_ONE))
            continue
        found += 1
        if source.check is not None:
            errs += source.check(f"{path}.{source.path}", getattr(volume, source.field))
    if volume.HasField("iscsi") and volume.iscsi.HasField("initiator_name"):
        if len(f"{volume.name}:{volume.iscsi.target_portal}") > 64:
            errs.append(
                fields.invalid(
                    f"{path}.name",
                    volume.name,
                    "Total length of <volume name>:<iscsi.targetPortal> must be under 64 "
                    "characters if iscsi.initiatorName is specified.",
                )
            )
    if found and volume.HasField("ephemeral") and pod_name and volume.name:
        claim = f"{pod_name}-{volume.name}"
        errs += [
            fields.invalid(f"{path}.name", volume.name, f'PVC name "{claim}": {e.detail}')
            for e in fields.dns1123_subdomain(f"{path}.name", claim)
        ]
    if not found:
        errs.append(fields.required(path, "must specify a volume type"))
    return errs


def volumes(
    spec: core_pb2.PodSpec, path: str, pod_name: str
) -> tuple[Mapping[str, core_pb2.Volume], list[FieldError]]:
    """ValidateVolumes: the valid volumes by name (mounts may only use those), and the errors."""
    errs: list[FieldError] = []
    valid: dict[str, core_pb2.Volume] = {}
    seen: set[str] = set()
    created_claims = (
        {f"{pod_name}-{v.name}" for v in spec.volumes if v.HasField("ephemeral")}
        if pod_name
        else set()
    )
    for i, volume in enumerate(spec.volumes):
        p = f"{path}[{i}]"
        own = volume_source(p, volume, pod_name)
        if not volume.name:
            own.append(fields.required(f"{p}.name"))
        else:
            own += fields.dns1123_label(f"{p}.name", volume.name)
        if volume.name in seen:
            own.append(fields.duplicate(f"{p}.name", volume.name))
        if own:
            errs += own
        else:
            seen.add(volume.name)
            valid[volume.name] = volume
        if (
            volume.HasField("persistent_volume_claim")
            and volume.persistent_volume_claim.claim_name in created_claims
        ):
            errs.append(
                fields.invalid(
                    f"{p}.persistentVolumeClaim.claimName",
                    volume.persistent_volume_claim.claim_name,
                    "must not reference a PVC that gets created for an ephemeral volume",
                )
            )
    return valid, errs
