"""Node IPAM (kubernetes pkg/controller/nodeipam, the range allocator): a node registered without
spec.podCIDR gets the next free node-sized subnet of the cluster CIDR (--cluster-cidr, default
10.244.0.0/16, cut at --node-cidr-mask-size, default 24) in podCIDR and podCIDRs. A subnet any node
holds, whether given here or brought by the node itself (the compose nodes register with theirs),
is never handed out again until that node is deleted."""

from __future__ import annotations

import logging

from controller.framework.reconciler import ReconcileLoop
from controller.nodeipam.cidrset import (
    CLUSTER_CIDR,
    NODE_CIDR_MASK_SIZE,
    CidrAllocator,
    CidrsExhausted,
)
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import resources
from podplane.client import events
from podplane.client.clientset import Client, is_conflict, is_not_found
from podplane.client.informer import Informer
from podplane.client.informer_factory import SharedInformerFactory

log = logging.getLogger(__name__)

EXHAUSTED_RECHECK = 30.0
CONFLICT_RECHECK = 0.05


def node_cidrs(node: core_pb2.Node) -> list[str]:
    return list(dict.fromkeys(c for c in [node.spec.pod_cidr, *node.spec.pod_cidrs] if c))


class NodeIpamController:
    def __init__(
        self,
        client: Client,
        informers: SharedInformerFactory,
        *,
        cluster_cidr: str = CLUSTER_CIDR,
        node_cidr_mask_size: int = NODE_CIDR_MASK_SIZE,
    ) -> None:
        self.client = client
        self.allocator = CidrAllocator(cluster_cidr, node_cidr_mask_size)
        self.recorder = events.EventRecorder(client, "cidrAllocator")
        self.nodes: Informer[core_pb2.Node] = informers.informer_for(resources.NODE)
        # One worker: allocations are handed out one at a time.
        self.loop = ReconcileLoop("nodeipam", self.reconcile, informers, [self.nodes], workers=1)
        self.nodes.add_handler(
            on_add=self._on_node,
            on_update=lambda _old, new: self._on_node(new),
            on_delete=self._on_node_delete,
        )

    # The allocator's book is kept in the handlers, not in reconcile: every subnet a cached node
    # holds must be marked taken before any allocation, whatever order the keys are worked in.
    def _on_node(self, node: core_pb2.Node) -> None:
        cidrs = node_cidrs(node)
        if cidrs:
            self.allocator.hold(node.metadata.name, cidrs)
        else:
            self.loop.enqueue(node.metadata.name)

    def _on_node_delete(self, node: core_pb2.Node) -> None:
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
            self.recorder.record(
                node,
                events.NORMAL,
                "CIDRNotAvailable",
                f"Node {name} status is now: CIDRNotAvailable",
            )
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
