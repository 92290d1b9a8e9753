"""Static pods: the pods of the manifest files in --pod-manifest-path (kubernetes
pkg/kubelet/config/file.go and common.go). The kubelet runs them itself, without the apiserver;
each is `<name>-<nodeName>`, bound to this node, with a uid that is a hash of the file's content
and the node, so the same file always gives the same pod and a changed file a new one."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable
from pathlib import Path

from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import manifest
from podplane.apimachinery.images import default_pull_policy

log = logging.getLogger(__name__)
CONFIG_SOURCE_ANNOTATION = "kubernetes.io/config.source"
CONFIG_HASH_ANNOTATION = "kubernetes.io/config.hash"
FILE_SOURCE = "file"
MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
# The kubelet's --file-check-frequency: how often the directory is read even if nothing changed.
FILE_CHECK_FREQUENCY = 20.0
# How often the files' names, sizes and modification times are looked at for a change.
CHANGE_POLL_PERIOD = 1.0


def config_hash(content: bytes, node_name: str) -> str:
    return hashlib.sha256(node_name.encode() + b"\0" + content).hexdigest()[:32]


def is_static_pod(pod: core_pb2.Pod) -> bool:
    return pod.metadata.annotations.get(CONFIG_SOURCE_ANNOTATION, "") == FILE_SOURCE


def _default(spec: core_pb2.PodSpec) -> None:
    """The defaults the apiserver would fill in (the kubelet decodes its files with them)."""
    spec.restart_policy = spec.restart_policy or "Always"
    spec.dns_policy = spec.dns_policy or "ClusterFirst"
    if not spec.HasField("enable_service_links"):
        spec.enable_service_links = True
    if not spec.HasField("termination_grace_period_seconds"):
        spec.termination_grace_period_seconds = 30
    for c in list(spec.init_containers) + list(spec.containers):
        if not c.image_pull_policy and c.image:
            c.image_pull_policy = default_pull_policy(c.image)
        c.termination_message_path = c.termination_message_path or "/dev/termination-log"
        c.termination_message_policy = c.termination_message_policy or "File"
    # As common.go applyDefaults: a static pod tolerates every NoExecute taint of its node.
    if not any(
        t.operator == "Exists" and not t.key and t.effect == "NoExecute" for t in spec.tolerations
    ):
        spec.tolerations.add(operator="Exists", effect="NoExecute")


def static_pod(decoded: core_pb2.Pod, content: bytes, node_name: str) -> core_pb2.Pod:
    """The static pod a manifest describes, as the kubelet runs it on this node."""
    pod = core_pb2.Pod()
    pod.CopyFrom(decoded)
    pod.api_version, pod.kind = "v1", "Pod"
    digest = config_hash(content, node_name)
    meta = pod.metadata
    meta.name = f"{meta.name}-{node_name}"
    meta.namespace = meta.namespace or "default"
    meta.uid = digest
    meta.resource_version = ""
    meta.annotations[CONFIG_SOURCE_ANNOTATION] = FILE_SOURCE
    meta.annotations[CONFIG_HASH_ANNOTATION] = digest
    pod.spec.node_name = node_name
    _default(pod.spec)
    pod.ClearField("status")
    return pod


def read_manifest(path: Path, node_name: str) -> core_pb2.Pod:
    """One manifest file's pod; raises ValueError (a ManifestError) or OSError if it has none."""
    content = path.read_bytes()
    objects = manifest.load_objects(content.decode())
    if len(objects) != 1 or not isinstance(objects[0], core_pb2.Pod):
        raise manifest.ManifestError("", "a static pod manifest must hold exactly one Pod")
    decoded = objects[0]
    if not decoded.metadata.name:
        raise manifest.ManifestError("metadata.name", "Required value")
    return static_pod(decoded, content, node_name)


def manifest_files(directory: Path) -> list[Path]:
    try:
        entries = sorted(directory.iterdir())
    except FileNotFoundError:
        return []
    # Hidden files are skipped, as editors' swap files are (file.go).
    return [
        p
        for p in entries
        if p.suffix in MANIFEST_SUFFIXES and not p.name.startswith(".") and p.is_file()
    ]


def read_manifest_dir(directory: Path, node_name: str) -> dict[str, core_pb2.Pod]:
    """The static pods of a directory by key (namespace/name); bad files are logged and left out."""
    pods: dict[str, core_pb2.Pod] = {}
    for path in manifest_files(directory):
        try:
            pod = read_manifest(path, node_name)
        except (OSError, UnicodeDecodeError, ValueError) as e:
            log.warning("static pod manifest %s: %s; ignored", path, e)
            continue
        key = f"{pod.metadata.namespace}/{pod.metadata.name}"
        if key in pods:
            log.warning(
                "static pod manifest %s: pod %s is defined by another file; ignored", path, key
            )
            continue
        pods[key] = pod
    return pods


def _fingerprint(directory: Path) -> frozenset[tuple[str, int, int]]:
    out = set()
    for path in manifest_files(directory):
        try:
            st = path.stat()
        except OSError:
            continue
        out.add((path.name, st.st_mtime_ns, st.st_size))
    return frozenset(out)


class StaticPodSource:
    """The static pods of a manifest directory, read again every FILE_CHECK_FREQUENCY seconds and
    as soon as a file changes; each pod added, changed or removed is reported by key."""

    def __init__(
        self,
        directory: str,
        node_name: str,
        on_change: Callable[[str], None],
        check_frequency: float = FILE_CHECK_FREQUENCY,
        poll_period: float = CHANGE_POLL_PERIOD,
    ) -> None:
        self.directory = Path(directory)
        self.node_name = node_name
        self.on_change = on_change
        self.check_frequency = check_frequency
        self.poll_period = poll_period
        self.pods: dict[str, core_pb2.Pod] = {}
        self._fingerprint: frozenset[tuple[str, int, int]] | None = None

    def get(self, key: str) -> core_pb2.Pod | None:
        return self.pods.get(key)

    def list(self) -> list[core_pb2.Pod]:
        return list(self.pods.values())

    def sync(self) -> set[str]:
        """Reads the directory; returns (and reports) the keys whose pod changed."""
        self._fingerprint = _fingerprint(self.directory)
        current = read_manifest_dir(self.directory, self.node_name)
        changed = {
            key
            for key in current.keys() | self.pods.keys()
            if (key in current) != (key in self.pods)
            or current[key].metadata.uid != self.pods[key].metadata.uid
        }
        for key in sorted(changed):
            before, after = self.pods.get(key), current.get(key)
            log.info(
                "static pod %s %s",
                key,
                "removed" if after is None else "added" if before is None else "changed",
            )
        self.pods = current
        for key in sorted(changed):
            self.on_change(key)
        return changed

    def changed_on_disk(self) -> bool:
        return _fingerprint(self.directory) != self._fingerprint

    async def run(self) -> None:
        """Watches the directory until cancelled."""
        loop = asyncio.get_running_loop()
        last = loop.time()
        while True:
            await asyncio.sleep(self.poll_period)
            try:
                if self.changed_on_disk() or loop.time() - last >= self.check_frequency:
                    last = loop.time()
                    self.sync()
            except Exception:
                log.exception("reading the static pod manifests in %s failed", self.directory)
