"""The records of Kubernetes' DNS specification (kubernetes/dns docs/specification.md, version
1.1.0), as CoreDNS's kubernetes plugin answers them:

- a ClusterIP Service: A/AAAA `<svc>.<ns>.svc.<zone>` -> its cluster IP; SRV
  `_<port>._<proto>.<svc>.<ns>.svc.<zone>` -> `0 100 <port> <svc>.<ns>.svc.<zone>` per port
  (all ports when asked for the Service's own name); PTR of the cluster IP;
- a headless Service: one A/AAAA per ready endpoint; `<hostname>.<svc>.<ns>.svc.<zone>` for each
  (its EndpointSlice hostname, else its dashed address); SRV per endpoint and port; PTR of each
  endpoint's address; NXDOMAIN when no endpoint is ready (as CoreDNS);
- an ExternalName Service: CNAME to its external name;
- a pod: A/AAAA `<a-b-c-d>.<ns>.pod.<zone>` (pods verified: only if a pod of that namespace has
  the address; insecure: any address; disabled: none);
- `dns-version.<zone>` TXT "1.1.0"; the zone's SOA and NS.

Names match case-insensitively (the caller lower-cases them). A name that exists without
records of the asked type is NODATA (NOERROR, no answer); one that does not exist, NXDOMAIN:
also a namespace that does not exist, and any other name under the zone."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from clusterdns.kubernetes import names
from clusterdns.kubernetes.cache import ClusterCache, Endpoint, EndpointPort
from podplane.api.core.v1 import service_pb2
from podplane.apimachinery import service as svc_helper

NOERROR, NXDOMAIN = "NOERROR", "NXDOMAIN"
SPEC_VERSION = "1.1.0"
POD_MODES = ("disabled", "insecure", "verified")


@dataclass(frozen=True)
class Record:
    """One resource record: owner name (absolute, lower case), type, data in zone-file text."""

    name: str
    type: str
    data: str


@dataclass(frozen=True)
class Answer:
    rcode: str = NOERROR
    records: tuple[Record, ...] = ()
    # The addresses of SRV targets (the additional section).
    extra: tuple[Record, ...] = ()
    # Not the cluster's to answer (the reverse name of an address it does not hold): the server
    # passes it on to its upstream.
    fallthrough: bool = False


NOT_FOUND = Answer(NXDOMAIN)
NO_DATA = Answer(NOERROR)


@dataclass(frozen=True)
class ZoneConfig:
    domain: str = "cluster.local."
    pods: str = "verified"
    # The Service that serves the zone: its address is the zone's nameserver's (ns.dns.<zone>).
    dns_service: tuple[str, str] = ("kube-system", "kube-dns")

    def service_name(self, namespace: str, service: str) -> str:
        return f"{service}.{namespace}.svc.{self.domain}"

    def soa(self, serial: int) -> Record:
        # mname rname serial refresh retry expire minimum, as CoreDNS's.
        return Record(
            self.domain,
            "SOA",
            f"ns.dns.{self.domain} hostmaster.{self.domain} {serial} 7200 1800 86400 5",
        )


def _address_type(ip: str) -> str:
    return "AAAA" if ":" in ip else "A"


def _addresses(name: str, ips: Iterable[str], qtype: str) -> tuple[Record, ...]:
    return tuple(Record(name, qtype, ip) for ip in ips if _address_type(ip) == qtype)


def _answer(records: tuple[Record, ...], extra: tuple[Record, ...] = ()) -> Answer:
    return Answer(NOERROR, records, extra)


def _port_matches(req: names.Request, name: str, protocol: str) -> bool:
    """matchPortAndProtocol: an empty port or protocol in the query matches any."""
    return (not req.port or req.port == name.lower()) and (
        not req.protocol or req.protocol == protocol.lower()
    )


def _srv_weight(count: int) -> int:
    return max(1, 100 // max(count, 1))


def lookup(cache: ClusterCache, zone: ZoneConfig, labels: tuple[str, ...], qtype: str) -> Answer:
    """The answer for a name under the zone: its labels below the zone, lower case."""
    req = names.parse(labels)
    if req.kind == names.APEX:
        if qtype == "SOA":
            return _answer((zone.soa(cache.modified),))
        if qtype == "NS":
            return _answer((Record(zone.domain, "NS", f"ns.dns.{zone.domain}"),))
        return NO_DATA
    if req.kind == names.DNS_VERSION:
        name = f"dns-version.{zone.domain}"
        return _answer((Record(name, "TXT", f'"{SPEC_VERSION}"'),)) if qtype == "TXT" else NO_DATA
    if req.kind == names.NAMESERVER:
        dns = cache.service(*zone.dns_service)
        ips = list(dns.spec.cluster_ips) if dns is not None and svc_helper.is_ip_set(dns) else []
        return _answer(_addresses(f"ns.dns.{zone.domain}", ips, qtype))
    if req.kind == names.INVALID:
        return NOT_FOUND
    if not req.namespace:  # svc.<zone>, pod.<zone>
        return NO_DATA
    if not cache.namespace_exists(req.namespace):
        return NOT_FOUND
    if not req.name:  # <namespace>.svc.<zone>
        return NO_DATA
    if req.kind == names.POD:
        return _pod(cache, zone, req, qtype)
    svc = cache.service(req.namespace, req.name)
    if svc is None:
        return NOT_FOUND
    if svc.spec.type == svc_helper.EXTERNAL_NAME:
        if req.endpoint or req.port or not svc.spec.external_name:
            return NOT_FOUND
        owner = zone.service_name(req.namespace, req.name)
        return _answer((Record(owner, "CNAME", svc.spec.external_name.rstrip(".") + "."),))
    if svc_helper.is_headless(svc) or req.endpoint:
        return _endpoints(cache, zone, req, qtype)
    return _cluster_ip(zone, svc, req, qtype)


def _cluster_ip(
    zone: ZoneConfig, svc: service_pb2.Service, req: names.Request, qtype: str
) -> Answer:
    ports = [p for p in svc.spec.ports if _port_matches(req, p.name, p.protocol or "TCP")]
    if not ports or not svc_helper.is_ip_set(svc):
        return NOT_FOUND
    target = zone.service_name(req.namespace, req.name)
    ips = list(svc.spec.cluster_ips) or [svc.spec.cluster_ip]
    if qtype in ("A", "AAAA"):
        owner = _query_name(zone, req)
        return _answer(_addresses(owner, ips, qtype))
    if qtype == "SRV":
        owner = _query_name(zone, req)
        weight = _srv_weight(len(ports))
        srv = tuple(Record(owner, "SRV", f"0 {weight} {p.port} {target}") for p in ports)
        extra = tuple(Record(target, _address_type(ip), ip) for ip in ips)
        return _answer(srv, extra)
    return NO_DATA


def _endpoints(cache: ClusterCache, zone: ZoneConfig, req: names.Request, qtype: str) -> Answer:
    """A headless Service's endpoints, or one endpoint (by hostname) of any Service."""
    chosen: list[tuple[Endpoint, list[EndpointPort]]] = []
    for e in cache.endpoints(req.namespace, req.name):
        if req.endpoint and e.hostname.lower() != req.endpoint:
            continue
        # An endpoint of a Service without ports has its addresses, and no SRV records.
        ports = [p for p in e.ports if _port_matches(req, p.name, p.protocol)]
        if ports or (not e.ports and not req.port and not req.protocol):
            chosen.append((e, ports))
    if not chosen:
        return NOT_FOUND
    owner = _query_name(zone, req)
    if qtype in ("A", "AAAA"):
        return _answer(_addresses(owner, (e.ip for e, _ in chosen), qtype))
    if qtype == "SRV":
        service = zone.service_name(req.namespace, req.name)
        pairs = [(e, p) for e, ports in chosen for p in ports]
        weight = _srv_weight(len(pairs))
        srv = tuple(
            Record(owner, "SRV", f"0 {weight} {p.port} {e.hostname}.{service}") for e, p in pairs
        )
        extra = tuple(
            dict.fromkeys(
                Record(f"{e.hostname}.{service}", _address_type(e.ip), e.ip) for e, _ in pairs
            )
        )
        return _answer(srv, extra)
    return NO_DATA


def _pod(cache: ClusterCache, zone: ZoneConfig, req: names.Request, qtype: str) -> Answer:
    ip = names.undashed(req.name)
    if zone.pods == "disabled" or ip is None:
        return NOT_FOUND
    if zone.pods == "verified" and req.namespace not in cache.pod_namespaces_with_ip(ip):
        return NOT_FOUND
    if qtype in ("A", "AAAA"):
        return _answer(_addresses(_query_name(zone, req), [ip], qtype))
    return NO_DATA


def _query_name(zone: ZoneConfig, req: names.Request) -> str:
    """The owner name of the answer: the name asked, rebuilt from the request (lower case)."""
    parts = [req.name, req.namespace, req.kind]
    if req.endpoint:
        parts.insert(0, req.endpoint)
    if req.port or req.protocol:
        parts[:0] = [f"_{req.port}", f"_{req.protocol}"]
    return ".".join(parts) + "." + zone.domain


def lookup_reverse(cache: ClusterCache, zone: ZoneConfig, owner: str, address: str) -> Answer:
    """PTR of a cluster IP (the Service's name) or of a ready endpoint's address (its hostname
    under the Service); anything else falls through to the upstream."""
    records = [
        Record(owner, "PTR", zone.service_name(s.metadata.namespace, s.metadata.name))
        for s in cache.services_with_ip(address)
    ]
    records += [
        Record(owner, "PTR", f"{e.hostname}.{zone.service_name(ns, service)}")
        for ns, service, e in cache.endpoints_with_ip(address)
    ]
    if not records:
        return Answer(fallthrough=True)
    return _answer(tuple(dict.fromkeys(records)))
