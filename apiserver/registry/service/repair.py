"""A check that the claims of cluster IPs and node ports and the Services that hold them agree (in
the role of kubernetes pkg/registry/core/service/ipallocator/controller/repair.go and its node port
twin).

Services and their claims are only ever written together (allocator.py), so they cannot disagree
unless etcd was edited behind the apiserver's back or restored from a copy of one without the
other. This reads both at one revision and mends what it can: a claim no Service holds is deleted,
a value a Service holds without a claim is claimed for it, each only if neither changed since
the read. A value outside the configured ranges (after a range change) or held by two Services is
reported; nothing can be done about it without changing a Service."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field

from apiserver.registry.service.allocator import (
    IP_PREFIX,
    NODE_PORT_PREFIX,
    ServiceAllocator,
    held_keys,
    owner_record,
)
from apiserver.storage.etcd import EtcdClient, KeyValue, prefix_end
from podplane.api.core.v1 import service_pb2

log = logging.getLogger(__name__)

SERVICES_PREFIX = b"/registry/services/"
# How often it runs (as Kubernetes' repair controllers: every 3 minutes).
REPAIR_INTERVAL = 180.0


@dataclass
class RepairReport:
    released: list[bytes] = field(default_factory=list)  # claims no Service held
    claimed: list[bytes] = field(default_factory=list)  # values held without a claim
    problems: list[str] = field(default_factory=list)  # what cannot be mended


async def _range(etcd: EtcdClient, prefix: bytes, revision: int = 0) -> tuple[list[KeyValue], int]:
    kvs, _, read_revision, _ = await etcd.range_counted(
        prefix, prefix_end(prefix), revision=revision
    )
    return kvs, read_revision


def _service_key(namespace: str, name: str) -> bytes:
    return SERVICES_PREFIX + f"{namespace}/{name}".encode()


async def repair(etcd: EtcdClient, allocator: ServiceAllocator) -> RepairReport:
    report = RepairReport()
    service_kvs, revision = await _range(etcd, SERVICES_PREFIX)
    services: dict[bytes, tuple[KeyValue, service_pb2.Service]] = {}
    for kv in service_kvs:
        svc = service_pb2.Service()
        svc.ParseFromString(kv.value)
        services[kv.key] = (kv, svc)
    claim_kvs = (await _range(etcd, IP_PREFIX, revision))[0]
    claim_kvs += (await _range(etcd, NODE_PORT_PREFIX, revision))[0]
    claims = {kv.key: kv for kv in claim_kvs}

    holders: dict[bytes, list[bytes]] = {}
    for key, (_, svc) in services.items():
        for claim_key in held_keys(svc):
            holders.setdefault(claim_key, []).append(key)

    for claim_key, kv in claims.items():
        if claim_key in holders:
            continue
        owner = _owner_key(kv.value)
        owner_revision = services[owner][0].mod_revision if owner in services else 0
        unchanged = {claim_key: kv.mod_revision}
        if owner is not None:
            unchanged[owner] = owner_revision
        if await etcd.write_if_unchanged(claim_key, None, unchanged):
            log.warning("released %s: no service holds it", claim_key.decode())
            report.released.append(claim_key)

    for claim_key, keys in sorted(holders.items()):
        names = [k[len(SERVICES_PREFIX) :].decode() for k in keys]
        if len(keys) > 1:
            report.problems.append(f"{_value(claim_key)} is held by {', '.join(names)}")
            continue
        if claim_key in claims:
            continue
        service_kv, svc = services[keys[0]]
        if not _in_range(allocator, claim_key):
            report.problems.append(
                f"{_value(claim_key)} of service {names[0]} is not in the configured range"
            )
            continue
        unchanged = {claim_key: 0, service_kv.key: service_kv.mod_revision}
        if await etcd.write_if_unchanged(claim_key, owner_record(svc), unchanged):
            log.warning("claimed %s for service %s: it held it unclaimed", *_what(claim_key, names))
            report.claimed.append(claim_key)
    for problem in report.problems:
        log.error("service allocations: %s", problem)
    return report


def _owner_key(record: bytes) -> bytes | None:
    try:
        owner = json.loads(record)
        return _service_key(str(owner["namespace"]), str(owner["name"]))
    except (ValueError, KeyError, TypeError):
        return None


def _value(claim_key: bytes) -> str:
    prefix = IP_PREFIX if claim_key.startswith(IP_PREFIX) else NODE_PORT_PREFIX
    what = "cluster IP" if prefix == IP_PREFIX else "node port"
    return f"{what} {claim_key[len(prefix) :].decode()}"


def _what(claim_key: bytes, names: list[str]) -> tuple[str, str]:
    return _value(claim_key), names[0]


def _in_range(allocator: ServiceAllocator, claim_key: bytes) -> bool:
    if claim_key.startswith(IP_PREFIX):
        return allocator.ip_range.index(claim_key[len(IP_PREFIX) :].decode()) is not None
    return allocator.port_range.contains(int(claim_key[len(NODE_PORT_PREFIX) :]))
