"""The hashes controllers name their objects with (kubernetes pkg/controller/controller_utils.go
ComputeHash, pkg/controller/history HashControllerRevision, apimachinery's rand.SafeEncodeString):
FNV-32 (FNV-1, Go's fnv.New32) and FNV-32a (fnv.New32a) of some bytes, written as the decimal
of the hash in an alphabet without vowels or look-alike characters."""

from __future__ import annotations

import json

from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import manifest

_OFFSET_BASIS = 0x811C9DC5
_PRIME = 0x01000193
_SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def fnv32(data: bytes) -> int:
    """FNV-1: multiply, then xor each byte."""
    h = _OFFSET_BASIS
    for b in data:
        h = ((h * _PRIME) & 0xFFFFFFFF) ^ b
    return h


def fnv32a(data: bytes) -> int:
    """FNV-1a: xor each byte, then multiply."""
    h = _OFFSET_BASIS
    for b in data:
        h = ((h ^ b) * _PRIME) & 0xFFFFFFFF
    return h


def safe_encode(text: str) -> str:
    """rand.SafeEncodeString: no vowels (no words) and no look-alike characters."""
    return "".join(_SAFE_ALPHABET[ord(ch) % len(_SAFE_ALPHABET)] for ch in text)


def template_hash(template: core_pb2.PodTemplateSpec, collision_count: int | None = None) -> str:
    """ComputeHash, the pod-template-hash of a Deployment's ReplicaSets and the
    controller-revision-hash of a DaemonSet's pods: fnv32a over the template, then the collision
    count (little-endian), SafeEncodeString of the decimal. The template is hashed as canonical
    JSON (keys sorted, API field names), which is the same in every process and version of this
    code (Kubernetes hashes its Go struct's printout, which no other program reproduces)."""
    canonical = json.dumps(manifest.to_dict(template), sort_keys=True, separators=(",", ":"))
    data = canonical.encode()
    if collision_count is not None:
        data += (collision_count & 0xFFFFFFFF).to_bytes(4, "little")
    return safe_encode(str(fnv32a(data)))
