"""The network, cloud and driver volume sources, as a pod's volume or a persistent volume's source
(kubernetes pkg/apis/core/validation: validateNFSVolumeSource, validateISCSIVolumeSource,
validateCSIVolumeSource, ... and their PersistentVolume twins): each source's required fields and
formats, with Kubernetes' messages. Podplane's nodes mount few of them; the API accepts them all,
and the kubelet reports a volume it cannot mount."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from apiserver.validation import fields
from apiserver.validation.fields import FieldError
from apiserver.validation.network import go_strings
from apiserver.validation.paths import local_descending_path, no_backsteps
from podplane.api.core.v1 import core_pb2

HOST_PATH_TYPES = (
    "",
    "BlockDevice",
    "CharDevice",
    "Directory",
    "DirectoryOrCreate",
    "File",
    "FileOrCreate",
    "Socket",
)
LUN_RANGE = "must be between 0 and 255, inclusive"
PARTITION_RANGE = "must be between 1 and 255, inclusive"
AZURE_CACHING_MODES = ("None", "ReadOnly", "ReadWrite")
AZURE_DISK_KINDS = ("Dedicated", "Managed", "Shared")
_AZURE_MANAGED_URI = (
    "/subscriptions/{sub-id}/resourcegroups/{group-name}/providers/microsoft.compute/disks/"
    "{disk-id}",
)
_AZURE_BLOB_URI = ("https://{account-name}.blob.core.windows.net/{container-name}/{disk-name}.vhd",)
_IQN = re.compile(r"iqn\.\d{4}-\d{2}\.([A-Za-z0-9\-.]+)(:[^,;*&$|\s]+)$")
_EUI = re.compile(r"^eui.[A-Za-z0-9]{16}$")
_NAA = re.compile(r"^naa.[A-Za-z0-9]{32}$")
_QUOBYTE_REGISTRY = "must be a host:port pair or multiple pairs separated by commas"


@dataclass(frozen=True)
class Source:
    """A row of a table of volume sources: the proto field, the name under which a second source
    is refused, the path its own errors are reported under, and its check."""

    field: str
    name: str
    path: str
    check: Callable[[str, Any], list[FieldError]] | None = None


def host_path(path: str, source: core_pb2.HostPathVolumeSource) -> list[FieldError]:
    """validateHostPathVolumeSource."""
    if not source.path:
        return [fields.required(f"{path}.path")]
    errs = no_backsteps(f"{path}.path", source.path)
    if source.type not in HOST_PATH_TYPES:
        errs.append(fields.unsupported(f"{path}.type", source.type, HOST_PATH_TYPES))
    return errs


def _required(path: str, value: object) -> list[FieldError]:
    return [] if value else [fields.required(path)]


def _secret_ref_name(
    path: str,
    ref: core_pb2.LocalObjectReference | core_pb2.SecretReference | core_pb2.ObjectReference,
    has: bool,
) -> list[FieldError]:
    return [fields.required(f"{path}.secretRef.name")] if has and not ref.name else []


def _iscsi_name_format(value: str, prefix_detail: str) -> str | None:
    """What is wrong with an IQN, EUI or NAA name, if anything."""
    if not value.startswith(("iqn", "eui", "naa")):
        return prefix_detail
    pattern = _IQN if value.startswith("iqn") else _EUI if value.startswith("eui") else _NAA
    return None if pattern.search(value) else "must be valid format"


def iscsi(
    path: str,
    source: core_pb2.ISCSIVolumeSource | core_pb2.ISCSIPersistentVolumeSource,
    volume_name: str | None = None,
) -> list[FieldError]:
    """validateISCSIVolumeSource, or validateISCSIPersistentVolumeSource given the volume's name."""
    persistent = isinstance(source, core_pb2.ISCSIPersistentVolumeSource)
    errs = _required(f"{path}.targetPortal", source.target_portal)
    if (
        persistent
        and source.HasField("initiator_name")
        and len(f"{volume_name}:{source.target_portal}") > 64
    ):
        errs.append(
            fields.invalid(
                f"{path}.targetportal",
                source.target_portal,
                "Total length of <volume name>:<iscsi.targetPortal> must be under 64 characters "
                "if iscsi.initiatorName is specified.",
            )
        )
    prefix_detail = (
        "must be valid format"
        if persistent
        else "must be valid format starting with iqn, eui, or naa"
    )
    if not source.iqn:
        errs.append(fields.required(f"{path}.iqn"))
    elif (problem := _iscsi_name_format(source.iqn, prefix_detail)) is not None:
        errs.append(fields.invalid(f"{path}.iqn", source.iqn, problem))
    if not 0 <= source.lun <= 255:
        errs.append(fields.invalid(f"{path}.lun", source.lun, LUN_RANGE))
    has_secret = source.HasField("secret_ref")
    if (source.chap_auth_discovery or source.chap_auth_session) and not has_secret:
        errs.append(fields.required(f"{path}.secretRef"))
    if persistent:
        errs += _secret_ref_name(path, source.secret_ref, has_secret)
    if source.HasField("initiator_name"):
        initiator = source.initiator_name
        if (problem := _iscsi_name_format(initiator, prefix_detail)) is not None:
            errs.append(fields.invalid(f"{path}.initiatorname", initiator, problem))
    return errs


def fc(path: str, source: core_pb2.FCVolumeSource) -> list[FieldError]:
    errs: list[FieldError] = []
    if not source.target_ww_ns and not source.wwids:
        errs.append(
            fields.required(
                f"{path}.targetWWNs", "must specify either targetWWNs or wwids, but not both"
            )
        )
    if source.target_ww_ns and source.wwids:
        errs.append(
            fields.invalid(
                f"{path}.targetWWNs",
                go_strings(source.target_ww_ns),
                "targetWWNs and wwids can not be specified simultaneously",
            )
        )
    if source.target_ww_ns:
        if not source.HasField("lun"):
            errs.append(
                fields.required(f"{path}.lun", "lun is required if targetWWNs is specified")
            )
        elif not 0 <= source.lun <= 255:
            errs.append(fields.invalid(f"{path}.lun", source.lun, LUN_RANGE))
    return errs


def gce_persistent_disk(
    path: str, source: core_pb2.GCEPersistentDiskVolumeSource
) -> list[FieldError]:
    errs = _required(f"{path}.pdName", source.pd_name)
    if not 0 <= source.partition <= 255:
        errs.append(fields.invalid(f"{path}.partition", source.partition, PARTITION_RANGE))
    return errs


def aws_elastic_block_store(
    path: str, source: core_pb2.AWSElasticBlockStoreVolumeSource
) -> list[FieldError]:
    errs = _required(f"{path}.volumeID", source.volume_id)
    if not 0 <= source.partition <= 255:
        errs.append(fields.invalid(f"{path}.partition", source.partition, PARTITION_RANGE))
    return errs


def nfs(path: str, source: core_pb2.NFSVolumeSource) -> list[FieldError]:
    errs = _required(f"{path}.server", source.server) + _required(f"{path}.path", source.path)
    if not posixpath.isabs(source.path):
        errs.append(fields.invalid(f"{path}.path", source.path, "must be an absolute path"))
    return errs


def _split_host_port(pair: str) -> bool:
    """Whether Go's net.SplitHostPort accepts `pair`."""
    if pair.startswith("["):
        end = pair.find("]")
        return end > 0 and pair[end + 1 : end + 2] == ":" and ":" not in pair[end + 2 :]
    return pair.count(":") == 1


def quobyte(path: str, source: core_pb2.QuobyteVolumeSource) -> list[FieldError]:
    errs: list[FieldError] = []
    if not source.registry:
        errs.append(fields.required(f"{path}.registry", _QUOBYTE_REGISTRY))
    elif len(source.tenant) >= 65:
        errs.append(
            fields.required(
                f"{path}.tenant", "must be a UUID and may not exceed a length of 64 characters"
            )
        )
    else:
        errs += [
            fields.invalid(f"{path}.registry", source.registry, _QUOBYTE_REGISTRY)
            for pair in source.registry.split(",")
            if not _split_host_port(pair)
        ]
    return errs + _required(f"{path}.volume", source.volume)


def glusterfs(
    path: str, source: core_pb2.GlusterfsVolumeSource | core_pb2.GlusterfsPersistentVolumeSource
) -> list[FieldError]:
    errs = _required(f"{path}.endpoints", source.endpoints) + _required(f"{path}.path", source.path)
    if isinstance(source, core_pb2.GlusterfsPersistentVolumeSource) and source.HasField(
        "endpoints_namespace"
    ):
        namespace = source.endpoints_namespace
        ns_path = f"{path}.endpointsNamespace"
        if not namespace:
            errs.append(
                fields.invalid(
                    ns_path,
                    namespace,
                    "if the endpointnamespace is set, it must be a valid namespace name",
                )
            )
        else:
            errs += fields.dns1123_label(ns_path, namespace)
    return errs


def flocker(path: str, source: core_pb2.FlockerVolumeSource) -> list[FieldError]:
    errs: list[FieldError] = []
    if not source.dataset_name and not source.dataset_uuid:
        errs.append(fields.required(path, "one of datasetName and datasetUUID is required"))
    if source.dataset_name and source.dataset_uuid:
        errs.append(
            fields.invalid(
                path, "resource", "datasetName and datasetUUID can not be specified simultaneously"
            )
        )
    if "/" in source.dataset_name:
        errs.append(
            fields.invalid(f"{path}.datasetName", source.dataset_name, "must not contain '/'")
        )
    return errs


def rbd(
    path: str, source: core_pb2.RBDVolumeSource | core_pb2.RBDPersistentVolumeSource
) -> list[FieldError]:
    return _required(f"{path}.monitors", source.monitors) + _required(f"{path}.image", source.image)


def cinder(
    path: str, source: core_pb2.CinderVolumeSource | core_pb2.CinderPersistentVolumeSource
) -> list[FieldError]:
    errs = _required(f"{path}.volumeID", source.volume_id)
    has_secret = source.HasField("secret_ref")
    errs += _secret_ref_name(path, source.secret_ref, has_secret)
    if isinstance(source, core_pb2.CinderPersistentVolumeSource) and has_secret:
        errs += _required(f"{path}.secretRef.namespace", source.secret_ref.namespace)
    return errs


def cephfs(
    path: str, source: core_pb2.CephFSVolumeSource | core_pb2.CephFSPersistentVolumeSource
) -> list[FieldError]:
    return _required(f"{path}.monitors", source.monitors)


def flex_volume(
    path: str, source: core_pb2.FlexVolumeSource | core_pb2.FlexPersistentVolumeSource
) -> list[FieldError]:
    """The driver, and no option in the kubernetes.io or k8s.io namespaces."""
    errs = _required(f"{path}.driver", source.driver)
    errs += _reserved_options(f"{path}.options", source.options)
    return errs


def _reserved_options(path: str, options: Mapping[str, str]) -> list[FieldError]:
    errs: list[FieldError] = []
    for key in sorted(options):
        namespace = key.split("/", 1)[0] if "/" in key else key
        normalized = "." + namespace.lower()
        if normalized.endswith((".kubernetes.io", ".k8s.io")):
            errs.append(
                fields.invalid(
                    f"{path}[{key}]", key, "kubernetes.io and k8s.io namespaces are reserved"
                )
            )
    return errs


def azure_file(
    path: str, source: core_pb2.AzureFileVolumeSource | core_pb2.AzureFilePersistentVolumeSource
) -> list[FieldError]:
    errs = _required(f"{path}.secretName", source.secret_name)
    errs += _required(f"{path}.shareName", source.share_name)
    if isinstance(source, core_pb2.AzureFilePersistentVolumeSource) and source.HasField(
        "secret_namespace"
    ):
        errs += _required(f"{path}.secretNamespace", source.secret_namespace)
    return errs


def azure_disk(path: str, source: core_pb2.AzureDiskVolumeSource) -> list[FieldError]:
    errs = _required(f"{path}.diskName", source.disk_name)
    errs += _required(f"{path}.diskURI", source.disk_uri)
    if source.HasField("caching_mode") and source.caching_mode not in AZURE_CACHING_MODES:
        errs.append(
            fields.unsupported(f"{path}.cachingMode", source.caching_mode, AZURE_CACHING_MODES)
        )
    if source.HasField("kind"):
        if source.kind not in AZURE_DISK_KINDS:
            errs.append(fields.unsupported(f"{path}.kind", source.kind, AZURE_DISK_KINDS))
        if source.kind == "Managed" and not source.disk_uri.startswith("/subscriptions/"):
            errs.append(fields.unsupported(f"{path}.diskURI", source.disk_uri, _AZURE_MANAGED_URI))
        if source.kind != "Managed" and not source.disk_uri.startswith("https://"):
            errs.append(fields.unsupported(f"{path}.diskURI", source.disk_uri, _AZURE_BLOB_URI))
    return errs


def vsphere_volume(path: str, source: core_pb2.VsphereVirtualDiskVolumeSource) -> list[FieldError]:
    return _required(f"{path}.volumePath", source.volume_path)


def photon_persistent_disk(
    path: str, source: core_pb2.PhotonPersistentDiskVolumeSource
) -> list[FieldError]:
    return _required(f"{path}.pdID", source.pd_id)


def portworx_volume(path: str, source: core_pb2.PortworxVolumeSource) -> list[FieldError]:
    return _required(f"{path}.volumeID", source.volume_id)


def scale_io(
    path: str, source: core_pb2.ScaleIOVolumeSource | core_pb2.ScaleIOPersistentVolumeSource
) -> list[FieldError]:
    return (
        _required(f"{path}.gateway", source.gateway)
        + _required(f"{path}.system", source.system)
        + _required(f"{path}.volumeName", source.volume_name)
    )


def storageos(
    path: str, source: core_pb2.StorageOSVolumeSource | core_pb2.StorageOSPersistentVolumeSource
) -> list[FieldError]:
    errs: list[FieldError] = []
    if not source.volume_name:
        errs.append(fields.required(f"{path}.volumeName"))
    else:
        errs += fields.dns1123_label(f"{path}.volumeName", source.volume_name)
    if source.volume_namespace:
        errs += fields.dns1123_label(f"{path}.volumeNamespace", source.volume_namespace)
    has_secret = source.HasField("secret_ref")
    errs += _secret_ref_name(path, source.secret_ref, has_secret)
    if isinstance(source, core_pb2.StorageOSPersistentVolumeSource) and has_secret:
        errs += _required(f"{path}.secretRef.namespace", source.secret_ref.namespace)
    return errs


def git_repo(path: str, source: core_pb2.GitRepoVolumeSource) -> list[FieldError]:
    errs = _required(f"{path}.repository", source.repository)
    return errs + local_descending_path(f"{path}.directory", source.directory)
