"""The apiserver's identity lease: its name as kube-apiserver derives it from the hostname, and
when the collector holds a lease expired."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta

from apiserver.controlplane.identity import apiserver_id, expired
from podplane.api.coordination.v1 import lease_pb2
from podplane.apimachinery import timeutil


def _expected(hostname: str) -> str:
    """Kubernetes' test/integration/controlplane expectedAPIServerIdentity, spelled out: each of
    hostname and "kube-apiserver" after its length as a big-endian uint16 (cryptobyte's
    AddUint16LengthPrefixed), SHA-256, the first 16 bytes in base32, unpadded, lower case."""
    data = bytearray()
    for part in (hostname.encode(), b"kube-apiserver"):
        data += len(part).to_bytes(2, "big") + part
    digest = hashlib.sha256(bytes(data)).digest()
    return "apiserver-" + base64.b32encode(digest[:16]).decode().replace("=", "").lower()


def test_the_lease_is_named_after_the_hostname_as_kube_apiserver_names_it() -> None:
    for hostname in ("cp-1", "cp-2", "kind-control-plane", "a" * 63):
        assert apiserver_id(hostname) == _expected(hostname)
    assert apiserver_id("cp-1") != apiserver_id("cp-2")
    # A valid object name: "apiserver-" and 26 base32 characters.
    name = apiserver_id("cp-1")
    assert len(name) == 36 and name == name.lower() and name.replace("-", "").isalnum()


def _lease(renewed: datetime | None, duration: int | None) -> lease_pb2.Lease:
    lease = lease_pb2.Lease()
    if renewed is not None:
        lease.spec.renew_time = timeutil.format_time(renewed)
    if duration is not None:
        lease.spec.lease_duration_seconds = duration
    return lease


def test_a_lease_is_expired_past_its_renew_time_and_duration_or_without_them() -> None:
    now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    assert expired(_lease(now - timedelta(hours=2), 3600), now)
    assert not expired(_lease(now - timedelta(minutes=2), 3600), now)
    assert not expired(_lease(now - timedelta(seconds=3600), 3600), now)  # at the edge: kept
    assert expired(_lease(now - timedelta(seconds=3601), 3600), now)
    assert expired(_lease(None, 3600), now)  # never renewed
    assert expired(_lease(now, None), now)  # no duration: not a heartbeat's lease
