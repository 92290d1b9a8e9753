"""Which node-sized subnets of the cluster CIDR are held, and by which nodes (kubernetes
pkg/controller/nodeipam/ipam/cidrset): the cluster CIDR cut at the node mask size, a subnet handed
out from a rotating start, and held until every node holding it lets it go."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

CLUSTER_CIDR = "10.244.0.0/16"
NODE_CIDR_MASK_SIZE = 24
# kube-controller-manager refuses more than 2^16 node subnets.
MAX_SUBNET_BITS = 16


class CidrsExhausted(Exception):
    pass


class CidrAllocator:
    """Which node-sized subnets of the cluster CIDR are held, and by which nodes (cidrset)."""

    def __init__(
        self, cluster_cidr: str = CLUSTER_CIDR, mask_size: int = NODE_CIDR_MASK_SIZE
    ) -> None:
        try:
            self.cluster = ipaddress.ip_network(cluster_cidr, strict=True)
        except ValueError as e:
            raise ValueError(f"invalid cluster CIDR {cluster_cidr!r}: {e}") from None
        if not self.cluster.prefixlen <= mask_size <= self.cluster.max_prefixlen:
            raise ValueError(
                f"node CIDR mask size {mask_size} must be between the cluster "
                f"CIDR's ({self.cluster.prefixlen}) and "
                f"{self.cluster.max_prefixlen}"
            )
        if mask_size - self.cluster.prefixlen > MAX_SUBNET_BITS:
            raise ValueError(
                f"node CIDR mask size {mask_size} cuts {self.cluster} into more "
                f"than 2^{MAX_SUBNET_BITS} subnets"
            )
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
