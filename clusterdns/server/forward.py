"""Names outside the cluster go to the upstream resolvers (CoreDNS's `forward . /etc/resolv.conf`):
each upstream in turn, over UDP (TCP when the answer is truncated), each given a short timeout.
No upstream answering is SERVFAIL, soon: a pod's resolver then tries its next search domain or
gives up, instead of waiting out its own timeouts."""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence

import dns.asyncquery
import dns.exception
import dns.flags
import dns.message
import dns.rcode

from clusterdns import metrics

log = logging.getLogger(__name__)
DEFAULT_TIMEOUT = 2.0


class Forwarder:
    def __init__(
        self, upstreams: Sequence[str], timeout: float = DEFAULT_TIMEOUT, port: int = 53
    ) -> None:
        self.upstreams = list(upstreams)
        self.timeout = timeout
        self.port = port

    async def forward(self, query: dns.message.Message) -> dns.message.Message | None:
        """The first upstream's answer, its id the query's; None when none answered in time."""
        # A random first upstream spreads the load, as CoreDNS's `policy random`.
        start = random.randrange(len(self.upstreams)) if self.upstreams else 0
        for upstream in self.upstreams[start:] + self.upstreams[:start]:
            metrics.FORWARD_REQUESTS.labels(upstream).inc()
            try:
                response = await dns.asyncquery.udp(
                    query, upstream, timeout=self.timeout, port=self.port
                )
                if response.flags & dns.flags.TC:
                    response = await dns.asyncquery.tcp(
                        query, upstream, timeout=self.timeout, port=self.port
                    )
            except (OSError, dns.exception.DNSException) as e:
                metrics.FORWARD_FAILURES.labels(upstream).inc()
                log.debug("upstream %s: %s", upstream, e)
                continue
            metrics.FORWARD_RESPONSES.labels(upstream, dns.rcode.to_text(response.rcode())).inc()
            return response
        return None


def upstreams_from(value: str) -> list[str]:
    """--upstream: comma-separated addresses, or the path of a resolv.conf whose nameservers
    are taken (the pod's own, with dnsPolicy Default: the node's resolver)."""
    if value.startswith("/"):
        servers: list[str] = []
        with open(value) as f:
            for line in f:
                words = line.split()
                if len(words) >= 2 and words[0] == "nameserver":
                    servers.append(words[1])
        return servers
    return [v.strip() for v in value.split(",") if v.strip()]
