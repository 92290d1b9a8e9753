"""Node IPAM (kubernetes pkg/controller/nodeipam, the range allocator): a node registered without
spec.podCIDR gets the next free node-sized subnet of the cluster CIDR (--cluster-cidr, default
10.244.0.0/16, cut at --node-cidr-mask-size, default 24) in podCIDR and podCIDRs. A subnet any node
holds, whether given here or brought by the node itself (the compose nodes register with theirs),
is never handed out again until that node is deleted."""
from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterable
from typing import Any

from controller.reconciler import ReconcileLoop
from podplane.client import events
from podplane.api.core.v1 import core_pb2
from podplane.client.clientset import Client, is_conflict, is_not_found
from podplane.client.informer import Informer

log = logging.getLogger(__name__)

CLUSTER_CIDR = "10.244.0.0/16"
NODE_CIDR_MASK_SIZE = 24
# kube-controller-manager refuses more than 2^16 node subnets.
MAX_SUBNET_BITS = 16
EXHAUSTED_RECHECK = 30.0
CONFLICT_RECHECK = 0.05


class CidrsExhausted(Exception):
    pass


class CidrAllocator:
    """Which node-sized subnets of the cluster CIDR are held, and by which nodes (cidrset)."""

    def __init__(self, cluster_cidr: str = CLUSTER_CIDR,
                 mask_size: int = NODE_CIDR_MASK_SIZE) -> None:
        try:
            self.cluster = ipaddress.ip_network(cluster_cidr, strict=True)
        except ValueError as e:
            raise ValueError(f"invalid cluster CIDR {cluster_cidr!r}: {e}") from None
        if not self.cluster.prefixlen <= mask_size <= self.cluster.max_prefixlen:
            raise ValueError(f"node CIDR mask size {mask_size} must be between the cluster "
                             f"CIDR's ({self.cluster.prefixlen}) and "
                             f"{self.cluster.max_prefixlen}")
        if mask_size - self.cluster.prefixlen > MAX_SUBNET_BITS:
            raise ValueError(f"node CIDR mask size {mask_size} cuts {self.cluster} into more "
                             f"than 2^{MAX_SUBNET_BITS} subnets")
        self.mask_size = mask_size
        self.size = 1 << (mask_size - self.cluster.prefixlen)
        self._step = 1 << (self.cluster.max_prefixlen - mask_size)
        self._owners: dict[int, set[str]] = {}
        self._held: dict[str, set[int]] = {}
        self._next = 0  # where the search for a free subnet starts (it rotates, as cidrset's)

    def subnet(self, index: int) -> str:
        first = int(self.cluster.network_address) + index * self._step
        return f"{ipaddress.ip_address(first)}/{self.mask_size}"

    def _indices(self, cidr: str) -> range:
        """The subnets `cidr` overlaps; none when it lies outside the cluster CIDR."""
        try:
            net = ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            return range(0)
        if net.version != self.cluster.version or not net.overlaps(self.cluster):
            return range(0)
        base = int(self.cluster.network_address)
        first = max(int(net.network_address), base) - base
        last = min(int(net.broadcast_address), int(self.cluster.broadcast_address)) - base
        return range(first // self._step, last // self._step + 1)

    def hold(self, node: str, cidrs: Iterable[str]) -> None:
        """Records what `node` holds now; what it held before and does not any more is free."""
        self.release(node)
        indices = {i for c in cidrs for i in self._indices(c)}
        if indices:
            self._held[node] = indices
            for i in indices:
                self._owners.setdefault(i, set()).add(node)

    def release(self, node: str) -> None:
        for i in self._held.pop(node, ()):
            owners = self._owners.get(i)
            if owners is not None:
                owners.discard(node)
                if not owners:
                    del self._owners[i]

    def held(self, node: str) -> list[str]:
        return [self.subnet(i) for i in sorted(self._held.get(node, ()))]

    def allocate(self, node: str) -> str:
        """Takes the next free subnet for `node`."""
        for k in range(self.size):
            i = (self._next + k) % self.size
            if i not in self._owners:
                self._next = (i + 1) % self.size
                cidr = self.subnet(i)
                self.hold(node, [cidr])
                return cidr
        raise CidrsExhausted(f"no remaining CIDRs of size /{self.mask_size} in {self.cluster}")

    @property
    def free(self) -> int:
        return self.size - len(self._owners)


def node_cidrs(node: Any) -> list[str]:
    return list(dict.fromkeys(c for c in [node.spec.pod_cidr, *node.spec.pod_cidrs] if c))


class NodeIpamController:
    def __init__(self, client: Client, *, cluster_cidr: str = CLUSTER_CIDR,
                 node_cidr_mask_size: int = NODE_CIDR_MASK_SIZE) -> None:
        self.client = client
        self.allocator = CidrAllocator(cluster_cidr, node_cidr_mask_size)
        self.recorder = events.EventRecorder(client, "cidrAllocator")
        self.nodes: Informer[core_pb2.Node] = Informer(client.nodes)
        # One worker: allocations are handed out one at a time.
        self.loop = ReconcileLoop("nodeipam", self.reconcile, [self.nodes], workers=1)
        self.nodes.add_handler(on_add=self._on_node,
                               on_update=lambda _old, new: self._on_node(new),
                               on_delete=self._on_node_delete)

    # The allocator's book is kept in the handlers, not in reconcile: every subnet a cached node
    # holds must be marked taken before any allocation, whatever order the keys are worked in.
    def _on_node(self, node: Any) -> None:
        cidrs = node_cidrs(node)
        if cidrs:
            self.allocator.hold(node.metadata.name, cidrs)
        else:
            self.loop.enqueue(node.metadata.name)

    def _on_node_delete(self, node: Any) -> None:
        self.allocator.release(node.metadata.name)

    async def run(self) -> None:
        await self.loop.run()

    async def reconcile(self, name: str) -> float | None:
        node = self.nodes.get(name)
        if node is None or node_cidrs(node):
            return None
        # A subnet taken for it by an earlier attempt whose write failed is used again.
        reserved = self.allocator.held(name)
        try:
            cidr = reserved[0] if reserved else self.allocator.allocate(name)
        except CidrsExhausted as e:
            log.warning("node %s: %s", name, e)
            self.recorder.record(node, events.NORMAL, "CIDRNotAvailable",
                                 f"Node {name} status is now: CIDRNotAvailable")
            return EXHAUSTED_RECHECK
        update = core_pb2.Node()
        update.CopyFrom(node)
        update.spec.pod_cidr = cidr
        del update.spec.pod_cidrs[:]
        update.spec.pod_cidrs.append(cidr)
        try:
            await self.client.nodes.update(update)
        except Exception as e:
            if is_not_found(e):
                self.allocator.release(name)
                return None
            if is_conflict(e):
                return CONFLICT_RECHECK  # changed meanwhile; it may have a CIDR now
            raise
        log.info("node %s: podCIDR %s", name, cidr)
        return None
