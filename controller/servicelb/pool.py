"""The addresses LoadBalancer Services get (--load-balancer-ip-pool), and who holds which: a pool
is a list of CIDRs and first-last ranges, as MetalLB's IPAddressPool is; an address is held by at
most one Service, by its "namespace/name" key, until that Service lets it go."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

# The pool --load-balancer-ip-pool names by default: derived from the network (network.py).
AUTO = "auto"
# Pools larger than this are refused: they are walked address by address.
MAX_POOL_SIZE = 1 << 16


class PoolExhausted(Exception):
    pass


class AddressRefused(Exception):
    """A Service's spec.loadBalancerIP that is outside the pool or held by another Service."""


# (IP version, first, last), the addresses as integers.
Range = tuple[int, int, int]


def _parse_range(part: str) -> Range:
    if "/" in part:
        net = ipaddress.ip_network(part, strict=False)
        if net.num_addresses <= 2:
            return net.version, int(net[0]), int(net[-1])
        # A subnet's network and broadcast addresses are left out, as MetalLB's avoidBuggyIPs.
        return net.version, int(net[1]), int(net[-2])
    first, sep, last = part.partition("-")
    start = ipaddress.ip_address(first.strip())
    end = ipaddress.ip_address(last.strip()) if sep else start
    if start.version != end.version or int(start) > int(end):
        raise ValueError(f"{part!r}: the first address must not be after the last")
    return start.version, int(start), int(end)


class AddressPool:
    def __init__(self, spec: str) -> None:
        """`spec`: comma-separated CIDRs (`172.18.255.192/26`), ranges
        (`172.18.255.200-172.18.255.250`) or single addresses; "" for an empty pool."""
        self.spec = spec
        self.ranges: list[Range] = []
        for part in filter(None, (p.strip() for p in spec.split(","))):
            try:
                self.ranges.append(_parse_range(part))
            except ValueError as e:
                raise ValueError(f"invalid address pool {spec!r}: {e}") from None
        self.size = sum(last - first + 1 for _, first, last in self.ranges)
        if self.size > MAX_POOL_SIZE:
            raise ValueError(f"address pool {spec!r} is larger than {MAX_POOL_SIZE} addresses")
        self._held: dict[str, str] = {}  # address -> service key
        self._by_service: dict[str, str] = {}  # service key -> address

    def __contains__(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        n = int(ip)
        return any(v == ip.version and first <= n <= last for v, first, last in self.ranges)

    def addresses(self) -> Iterator[str]:
        for version, first, last in self.ranges:
            for n in range(first, last + 1):
                yield str(ipaddress.IPv4Address(n) if version == 4 else ipaddress.IPv6Address(n))

    def held(self, key: str) -> str | None:
        return self._by_service.get(key)

    def holder(self, address: str) -> str | None:
        return self._held.get(address)

    @property
    def free(self) -> int:
        return self.size - len(self._held)

    def hold(self, key: str, address: str) -> bool:
        """Records that the Service holds `address` (seen in its status); False, and nothing
        recorded, if the address is outside the pool or another Service holds it."""
        if address not in self or self._held.get(address, key) != key:
            return False
        self.release(key)
        self._held[address] = key
        self._by_service[key] = address
        return True

    def allocate(self, key: str, requested: str = "") -> str:
        """The Service's address: the one it holds, else `requested` (its spec.loadBalancerIP),
        else the lowest free one."""
        current = self._by_service.get(key)
        if requested:
            if current == requested:
                return current
            if requested not in self:
                raise AddressRefused(
                    f"requested IP {requested} is not in the load balancer pool {self.spec}"
                )
            holder = self._held.get(requested)
            if holder is not None and holder != key:
                raise AddressRefused(f"requested IP {requested} is already allocated to {holder}")
            self.hold(key, requested)
            return requested
        if current is not None:
            return current
        for address in self.addresses():
            if address not in self._held:
                self.hold(key, address)
                return address
        raise PoolExhausted(f"no available IP in the load balancer pool {self.spec}")

    def release(self, key: str) -> str | None:
        """Lets go of the Service's address; the address, or None if it held none."""
        address = self._by_service.pop(key, None)
        if address is not None:
            self._held.pop(address, None)
        return address
