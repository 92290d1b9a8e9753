"""The cluster IP range (kubernetes pkg/registry/core/service/ipallocator): which addresses of
--service-cluster-ip-range a Service may hold, and how a free one is chosen.

The network address is never used, nor an IPv4 range's broadcast address; an IPv6 range is cut to
its first 65536 addresses, as Kubernetes' bitmap is. Addresses are chosen at random, from the
upper part of the range first (KEP-3070): the first min(max(16, size/16), 256) addresses are
left to Services that ask for one (the `kubernetes` Service's first address, cluster DNS's .10)."""

from __future__ import annotations

import ipaddress
import random
from dataclasses import dataclass

from podplane.apimachinery.service import IPV4, IPV6

DEFAULT_SERVICE_CIDR = "10.96.0.0/12"
MAX_IPV6_ADDRESSES = 65536
# Random picks tried before scanning for a free address.
RANDOM_PROBES = 32


class RangeFull(Exception):
    """Every address of the range is allocated."""

    def __str__(self) -> str:
        return "range is full"


def range_offset(size: int, lower: int = 16, upper: int = 256, step: int = 16) -> int:
    """The size of the band kept for requested values: min(max(lower, size/step), upper), 0 for a
    range of at most `lower` values (calculateRangeOffset)."""
    if size <= lower:
        return 0
    return max(lower, min(size // step, upper))


def pick_free(size: int, offset: int, taken: set[int], rng: random.Random) -> int:
    """A free index of [0, size): at random from [offset, size) while it has one, then from
    [0, offset); RangeFull if there is none."""
    for start, end in ((offset, size), (0, offset)):
        if end <= start:
            continue
        for _ in range(RANDOM_PROBES):
            candidate = rng.randrange(start, end)
            if candidate not in taken:
                return candidate
        first = rng.randrange(start, end)  # then every index once, from a random one
        for i in range(end - start):
            candidate = start + (first - start + i) % (end - start)
            if candidate not in taken:
                return candidate
    raise RangeFull


@dataclass(frozen=True)
class IPRange:
    network: ipaddress.IPv4Network | ipaddress.IPv6Network

    @classmethod
    def parse(cls, cidr: str) -> IPRange:
        """The range of a CIDR (its host bits ignored, as Go's ParseCIDR does); ValueError with
        kube-apiserver's wording for one too large or too small."""
        network = ipaddress.ip_network(cidr.strip(), strict=False)
        if network.version == 4 and network.prefixlen < 12:
            raise ValueError(
                f"specified service cluster IP range {cidr} is too large; for 32-bit "
                "addresses, the mask must be >= 12"
            )
        if network.version == 6 and network.prefixlen < 108:
            raise ValueError(
                f"specified service cluster IP range {cidr} is too large; for 128-bit "
                "addresses, the mask must be >= 108"
            )
        if network.num_addresses < 4:
            raise ValueError(f"specified service cluster IP range {cidr} is too small")
        return cls(network)

    def __str__(self) -> str:
        return str(self.network)

    @property
    def family(self) -> str:
        return IPV4 if self.network.version == 4 else IPV6

    @property
    def size(self) -> int:
        """How many addresses may be allocated."""
        total = self.network.num_addresses
        if self.network.version == 6:
            return min(total, MAX_IPV6_ADDRESSES) - 1
        return total - 2

    @property
    def offset(self) -> int:
        return range_offset(self.network.num_addresses)

    def index(self, address: str) -> int | None:
        """The address's index in the range, None when it is not an allocatable one."""
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return None
        if ip.version != self.network.version:
            return None
        index = int(ip) - int(self.network.network_address) - 1
        return index if 0 <= index < self.size else None

    def address(self, index: int) -> str:
        return str(self.network.network_address + index + 1)

    def first(self) -> str:
        """The first allocatable address (the `kubernetes` Service's)."""
        return self.address(0)

    def pick(self, taken: set[int], rng: random.Random) -> str:
        return self.address(pick_free(self.size, self.offset, taken, rng))

    def not_in_range(self, address: str) -> str:
        """ipallocator.ErrNotInRange's message."""
        return (
            f"the provided IP ({address}) is not in the valid range. The range of valid IPs "
            f"is {self}"
        )
