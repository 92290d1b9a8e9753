"""kube-proxy's chain names: the fixed ones, and the per service port and per endpoint ones,
named after a hash as Kubernetes names them, so that `iptables-save` on a podplane node reads as
on a Kubernetes node."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

# Built-in chains and tables.
NAT, FILTER, MANGLE = "nat", "filter", "mangle"
PREROUTING, INPUT, FORWARD, OUTPUT, POSTROUTING = (
    "PREROUTING",
    "INPUT",
    "FORWARD",
    "OUTPUT",
    "POSTROUTING",
)

# kube-proxy's top-level chains.
KUBE_SERVICES = "KUBE-SERVICES"
KUBE_EXTERNAL_SERVICES = "KUBE-EXTERNAL-SERVICES"
KUBE_NODEPORTS = "KUBE-NODEPORTS"
KUBE_POSTROUTING = "KUBE-POSTROUTING"
KUBE_MARK_MASQ = "KUBE-MARK-MASQ"
KUBE_FORWARD = "KUBE-FORWARD"
KUBE_PROXY_FIREWALL = "KUBE-PROXY-FIREWALL"
# A copy of the kubelet's chain with the anti-martian rule for localhost node ports.
KUBE_FIREWALL = "KUBE-FIREWALL"
# Created once; if it disappears, something flushed the tables and a full sync rewrites them.
KUBE_PROXY_CANARY = "KUBE-PROXY-CANARY"

# Per service port and per endpoint chains.
SVC_PREFIX = "KUBE-SVC-"  # Cluster traffic policy: every usable endpoint
SVL_PREFIX = "KUBE-SVL-"  # Local traffic policy: this node's endpoints
FW_PREFIX = "KUBE-FW-"  # loadBalancerSourceRanges
EXT_PREFIX = "KUBE-EXT-"  # node ports, external IPs and load balancer IPs
SEP_PREFIX = "KUBE-SEP-"  # one endpoint: masquerade hairpin traffic, DNAT
SERVICE_CHAIN_PREFIXES = (SVC_PREFIX, SVL_PREFIX, FW_PREFIX, EXT_PREFIX, SEP_PREFIX)


def _hash16(text: str) -> str:
    """sha256, base32, the first 16 characters: chain names must stay within 28 characters."""
    return base64.b32encode(hashlib.sha256(text.encode()).digest()).decode()[:16]


def port_proto_hash(service_port_name: str, protocol: str) -> str:
    return _hash16(service_port_name + protocol.lower())


def service_chains(service_port_name: str, protocol: str) -> tuple[str, str, str, str]:
    """The KUBE-SVC-, KUBE-SVL-, KUBE-EXT- and KUBE-FW- chains of a service port ("ns/svc:port")."""
    h = port_proto_hash(service_port_name, protocol)
    return SVC_PREFIX + h, SVL_PREFIX + h, EXT_PREFIX + h, FW_PREFIX + h


def endpoint_chain(service_port_name: str, protocol: str, endpoint: str) -> str:
    """The KUBE-SEP- chain of an endpoint ("ip:port") of a service port."""
    return SEP_PREFIX + _hash16(service_port_name + protocol.lower() + endpoint)


def is_service_chain(chain: str) -> bool:
    return chain.startswith(SERVICE_CHAIN_PREFIXES)


@dataclass(frozen=True)
class Jump:
    """A rule that sends a built-in chain's traffic to one of kube-proxy's (iptablesJumpChains):
    kept first in the built-in chain, outside the restore input so that other rules there (the
    container engine's) are left alone."""

    table: str
    chain: str
    source: str
    comment: str
    extra: tuple[str, ...] = ()

    def args(self) -> list[str]:
        comment = ["-m", "comment", "--comment", self.comment] if self.comment else []
        return [*self.extra, *comment, "-j", self.chain]


_NEW = ("-m", "conntrack", "--ctstate", "NEW")
JUMPS = (
    Jump(
        FILTER, KUBE_EXTERNAL_SERVICES, INPUT, "kubernetes externally-visible service portals", _NEW
    ),
    Jump(
        FILTER,
        KUBE_EXTERNAL_SERVICES,
        FORWARD,
        "kubernetes externally-visible service portals",
        _NEW,
    ),
    Jump(FILTER, KUBE_NODEPORTS, INPUT, "kubernetes health check service ports"),
    Jump(FILTER, KUBE_SERVICES, FORWARD, "kubernetes service portals", _NEW),
    Jump(FILTER, KUBE_SERVICES, OUTPUT, "kubernetes service portals", _NEW),
    Jump(FILTER, KUBE_FORWARD, FORWARD, "kubernetes forwarding rules"),
    Jump(FILTER, KUBE_PROXY_FIREWALL, INPUT, "kubernetes load balancer firewall", _NEW),
    Jump(FILTER, KUBE_PROXY_FIREWALL, OUTPUT, "kubernetes load balancer firewall", _NEW),
    Jump(FILTER, KUBE_PROXY_FIREWALL, FORWARD, "kubernetes load balancer firewall", _NEW),
    Jump(NAT, KUBE_SERVICES, OUTPUT, "kubernetes service portals"),
    Jump(NAT, KUBE_SERVICES, PREROUTING, "kubernetes service portals"),
    Jump(NAT, KUBE_POSTROUTING, POSTROUTING, "kubernetes postrouting rules"),
)
# The kubelet's KUBE-FIREWALL, which kube-proxy creates too (iptablesKubeletJumpChains).
KUBELET_JUMPS = (
    Jump(FILTER, KUBE_FIREWALL, INPUT, ""),
    Jump(FILTER, KUBE_FIREWALL, OUTPUT, ""),
)
CANARY_TABLES = (MANGLE, NAT, FILTER)
