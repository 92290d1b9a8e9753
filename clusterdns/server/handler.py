"""One DNS query in, one response out (the server block of a Corefile: kubernetes for the cluster
domain and the reverse zones, forward for the rest).

- Names under the cluster domain are answered from the cluster's cache, authoritatively: records
  with the positive TTL (30 s), NXDOMAIN and NODATA with the zone's SOA and the negative TTL
  (5 s). Until the cache has synced they are SERVFAIL, never a false NXDOMAIN.
- An ExternalName's CNAME is followed: in the cluster, or through the upstream.
- Reverse names of cluster IPs and endpoints get their PTR; other reverse names, and every name
  outside the cluster, go to the upstream (REFUSED without one, SERVFAIL when it does not
  answer).
- Over UDP an answer larger than the client's buffer (512 bytes, or its EDNS size) is sent
  truncated (TC), so that the client asks again over TCP."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import dns.edns
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from clusterdns import metrics
from clusterdns.kubernetes import names, records
from clusterdns.kubernetes.cache import ClusterCache
from clusterdns.kubernetes.records import Answer, Record, ZoneConfig
from clusterdns.server.forward import Forwarder

log = logging.getLogger(__name__)
REVERSE_ZONES = ("in-addr.arpa.", "ip6.arpa.")
MAX_CNAME_CHAIN = 8
UDP_MIN_SIZE = 512
TCP_MAX_SIZE = 65535
SERVER_LABEL = "dns://:53"


@dataclass(frozen=True)
class TTLs:
    positive: int = 30
    negative: int = 5


@dataclass
class _Result:
    """What a query came to: rcode, sections, and which zone (metrics) answered."""

    rcode: dns.rcode.Rcode
    answer: list[dns.rrset.RRset]
    authority: list[dns.rrset.RRset]
    additional: list[dns.rrset.RRset]
    authoritative: bool
    zone: str


class DNSHandler:
    def __init__(
        self,
        cache: ClusterCache,
        zone: ZoneConfig,
        ttls: TTLs = TTLs(),
        forwarder: Forwarder | None = None,
        synced: Callable[[], bool] = lambda: True,
    ) -> None:
        self.cache = cache
        self.zone = zone
        self.ttls = ttls
        self.forwarder = forwarder if forwarder is not None and forwarder.upstreams else None
        self.synced = synced
        self._domain = dns.name.from_text(zone.domain)
        self._reverse = [dns.name.from_text(z) for z in REVERSE_ZONES]

    async def handle(self, wire: bytes, proto: str, family: str = "1") -> bytes | None:
        """The response to a query's bytes (over "udp" or "tcp", from an IPv4 client, family
        "1", or IPv6, "2"); None for bytes that are not a DNS query at all."""
        started = time.perf_counter()
        try:
            query = dns.message.from_wire(wire)
        except dns.exception.DNSException:
            return _format_error(wire)
        if query.flags & dns.flags.QR:
            return None
        response = dns.message.make_response(query)
        response.flags |= dns.flags.RA
        if query.opcode() != dns.opcode.QUERY:
            response.set_rcode(dns.rcode.NOTIMP)
            return response.to_wire()
        if len(query.question) != 1:
            response.set_rcode(dns.rcode.FORMERR)
            return response.to_wire()
        question = query.question[0]
        qtype = dns.rdatatype.to_text(question.rdtype)
        result = await self._resolve(query, question.name, question.rdtype)
        response.set_rcode(result.rcode)
        if result.authoritative:
            response.flags |= dns.flags.AA
        response.answer, response.authority = result.answer, result.authority
        response.additional = result.additional
        limit = TCP_MAX_SIZE if proto == "tcp" else max(UDP_MIN_SIZE, query.payload)
        try:
            out = response.to_wire(max_size=limit)
        except dns.exception.TooBig:
            response.answer, response.authority, response.additional = [], [], []
            response.flags |= dns.flags.TC
            out = response.to_wire(max_size=limit)
        sizes = (len(wire), len(out))
        self._observe(result, qtype, proto, family, question.name, sizes, started)
        return out

    async def _resolve(
        self,
        query: dns.message.Message,
        qname: dns.name.Name,
        rdtype: dns.rdatatype.RdataType,
        depth: int = 0,
    ) -> _Result:
        qtype = dns.rdatatype.to_text(rdtype)
        if qname.is_subdomain(self._domain):
            if not self.synced():
                return _Result(dns.rcode.SERVFAIL, [], [], [], False, self.zone.domain)
            labels = qname.relativize(self._domain).to_text().lower()
            below = () if labels == "@" else tuple(labels.split("."))
            answer = records.lookup(self.cache, self.zone, below, qtype)
            return await self._authoritative(query, qname, rdtype, answer, depth)
        for zone in self._reverse:
            if qname.is_subdomain(zone) and qtype == "PTR" and self.synced():
                below = tuple(qname.relativize(zone).to_text().lower().split("."))
                address = names.reverse_address(below, zone.to_text())
                if address is not None:
                    owner = qname.to_text().lower()
                    answer = records.lookup_reverse(self.cache, self.zone, owner, address)
                    if not answer.fallthrough:
                        return await self._authoritative(query, qname, rdtype, answer, depth)
        return await self._forward(query, qname, rdtype)

    async def _authoritative(
        self,
        query: dns.message.Message,
        qname: dns.name.Name,
        rdtype: dns.rdatatype.RdataType,
        answer: Answer,
        depth: int,
    ) -> _Result:
        rcode = dns.rcode.NXDOMAIN if answer.rcode == records.NXDOMAIN else dns.rcode.NOERROR
        result = _Result(
            rcode,
            self._rrsets(answer.records, qname),
            [],
            self._rrsets(answer.extra, qname),
            True,
            self.zone.domain,
        )
        cname = next((r for r in answer.records if r.type == "CNAME"), None)
        if cname is not None and rdtype != dns.rdatatype.CNAME and depth < MAX_CNAME_CHAIN:
            # An ExternalName: the target's records follow the CNAME, as CoreDNS's upstream.
            target = await self._resolve(query, dns.name.from_text(cname.data), rdtype, depth + 1)
            result.answer += target.answer
            result.rcode = target.rcode
            result.authority = target.authority
            return result
        if not result.answer:
            soa = self.zone.soa(self.cache.modified)
            result.authority = [self._rrset(soa.name, soa.type, [soa.data], self.ttls.negative)]
        return result

    async def _forward(
        self, query: dns.message.Message, qname: dns.name.Name, rdtype: dns.rdatatype.RdataType
    ) -> _Result:
        if self.forwarder is None:
            return _Result(dns.rcode.REFUSED, [], [], [], False, ".")
        question = query.question[0]
        if question.name != qname or question.rdtype != rdtype:
            # A CNAME's target: asked afresh.
            query = dns.message.make_query(qname, rdtype, use_edns=query.edns >= 0)
        response = await self.forwarder.forward(query)
        if response is None:
            return _Result(dns.rcode.SERVFAIL, [], [], [], False, ".")
        return _Result(
            response.rcode(),
            list(response.answer),
            list(response.authority),
            [rrset for rrset in response.additional if rrset.rdtype != dns.rdatatype.OPT],
            False,
            ".",
        )

    def _rrsets(self, found: tuple[Record, ...], qname: dns.name.Name) -> list[dns.rrset.RRset]:
        """Records grouped into RRsets; the owner asked about keeps the case it was asked in."""
        grouped: dict[tuple[str, str], list[str]] = {}
        for r in found:
            grouped.setdefault((r.name, r.type), []).append(r.data)
        asked = qname.to_text().lower()
        return [
            self._rrset(qname.to_text() if name == asked else name, rtype, data, self.ttls.positive)
            for (name, rtype), data in grouped.items()
        ]

    @staticmethod
    def _rrset(name: str, rtype: str, data: list[str], ttl: int) -> dns.rrset.RRset:
        return dns.rrset.from_text_list(name, ttl, dns.rdataclass.IN, rtype, data)

    def _observe(
        self,
        result: _Result,
        qtype: str,
        proto: str,
        family: str,
        qname: dns.name.Name,
        sizes: tuple[int, int],
        started: float,
    ) -> None:
        zone = result.zone
        request_size, response_size = sizes
        metrics.REQUESTS.labels(SERVER_LABEL, zone, "", proto, family, qtype).inc()
        metrics.RESPONSES.labels(
            SERVER_LABEL, zone, "", dns.rcode.to_text(result.rcode), _plugin(result)
        ).inc()
        metrics.REQUEST_DURATION.labels(SERVER_LABEL, zone, "", qtype).observe(
            time.perf_counter() - started
        )
        metrics.REQUEST_SIZE.labels(SERVER_LABEL, zone, "", proto).observe(request_size)
        metrics.RESPONSE_SIZE.labels(SERVER_LABEL, zone, "", proto).observe(response_size)
        log.debug("%s %s %s -> %s", proto, qtype, qname, dns.rcode.to_text(result.rcode))


def _plugin(result: _Result) -> str:
    return "kubernetes" if result.authoritative else "forward"


def _format_error(wire: bytes) -> bytes | None:
    """FORMERR for a query whose header at least is readable."""
    if len(wire) < 12 or wire[2] & 0x80:  # too short for a header, or a response
        return None
    header = bytearray(wire[:12])
    header[2] = 0x80 | (header[2] & 0x79)  # QR, keep opcode and RD
    header[3] = dns.rcode.FORMERR
    header[4:12] = bytes(8)  # no records of any section
    return bytes(header)
