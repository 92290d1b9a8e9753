"""The node port range (kubernetes pkg/registry/core/service/portallocator): the ports of
--service-node-port-range, chosen at random from above the band kept for Services that ask for a
port (min(max(16, size/32), 128) ports, KEP-3668)."""

from __future__ import annotations

import random
from dataclasses import dataclass

from apiserver.registry.service.ipallocator import pick_free, range_offset

DEFAULT_NODE_PORT_RANGE = "30000-32767"


@dataclass(frozen=True)
class PortRange:
    base: int
    size: int

    @classmethod
    def parse(cls, value: str) -> PortRange:
        """ "30000-32767", or one port; ValueError with net.ParsePortRange's wording."""
        text = value.strip()
        low, sep, high = text.partition("-")
        try:
            first = int(low)
            last = int(high) if sep else first
        except ValueError:
            raise ValueError(f'unable to parse port range "{value}"') from None
        if not (0 <= first <= 65535 and 0 <= last <= 65535) or last < first:
            raise ValueError(f'"{value}" is not a valid port range')
        return cls(first, last - first + 1)

    def __str__(self) -> str:
        return f"{self.base}-{self.base + self.size - 1}"

    @property
    def offset(self) -> int:
        return range_offset(self.size, lower=16, upper=128, step=32)

    def contains(self, port: int) -> bool:
        return self.base <= port < self.base + self.size

    def pick(self, taken: set[int], rng: random.Random) -> int:
        """A free port; RangeFull if there is none."""
        return self.base + pick_free(self.size, self.offset, {p - self.base for p in taken}, rng)

    def not_in_range(self) -> str:
        """portallocator.ErrNotInRange's message."""
        return f"provided port is not in the valid range. The range of valid ports is {self}"
