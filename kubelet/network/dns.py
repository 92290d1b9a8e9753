"""A pod's resolv.conf from its dnsPolicy and dnsConfig (kubernetes pkg/kubelet/network/dns):

- ClusterFirst (the default; Default for a host-network pod) and ClusterFirstWithHostNet: the
  cluster DNS (--cluster-dns) is the only nameserver; the search path is
  `<namespace>.svc.<domain> svc.<domain> <domain>` (--cluster-domain) then the node's own search
  domains; `options ndots:5`. A kubelet without --cluster-dns falls back to Default, with a
  MissingClusterDNS event.
- Default: the node's resolver, as --resolv-conf has it (an empty --resolv-conf: 127.0.0.1 and
  no search path, which disables lookups). A host-network pod with Default and no dnsConfig
  keeps the resolv.conf the runtime gives it, the node's own (config None): the compose nodes'
  --resolv-conf names an address that answers pods only (docs/kubelet.md).
- None: nothing but the pod's dnsConfig.

dnsConfig is then merged in (nameservers and searches appended without duplicates, options
replacing those of the same name), and the result cut to the resolver's limits (3 nameservers,
32 search domains of at most 253 characters, 2048 characters in all) with a DNSConfigForming
event."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from kubelet.runtime.types import ContainerRuntimeError, DNSConfig
from podplane.api.core.v1 import core_pb2

DEFAULT_OPTIONS = ("ndots:5",)
MAX_NAMESERVERS = 3
MAX_SEARCH_PATHS = 32
MAX_SEARCH_LIST_CHARS = 2048
MAX_DOMAIN_LENGTH = 253  # DNS1123SubdomainMaxLength
MAX_RESOLV_CONF_BYTES = 10 << 20
CLUSTER_FIRST = "ClusterFirst"
CLUSTER_FIRST_WITH_HOST_NET = "ClusterFirstWithHostNet"
DEFAULT = "Default"
NONE = "None"


class DNSConfigError(ContainerRuntimeError):
    """The node's resolver configuration cannot be read: the pod's sandbox is not created."""


@dataclass(frozen=True)
class ResolvConf:
    """What a resolv.conf says: nameservers accumulate; the last search and options lines win."""

    nameservers: tuple[str, ...] = ()
    searches: tuple[str, ...] = ()
    options: tuple[str, ...] = ()


def parse_resolv_conf(text: str) -> ResolvConf:
    nameservers: list[str] = []
    searches: list[str] = []
    options: list[str] = []
    for line in text.splitlines():
        words = line.strip().split()
        if not words or words[0].startswith("#"):
            continue
        if words[0] == "nameserver" and len(words) >= 2:
            nameservers.append(words[1])
        elif words[0] == "search":
            # The same domain with and without its trailing dot counts once.
            searches = [w.removesuffix(".") for w in words[1:]]
        elif words[0] == "options":
            options = words[1:]
    return ResolvConf(tuple(nameservers), tuple(searches), tuple(options))


def read_resolv_conf(path: str) -> ResolvConf:
    if not path:
        return ResolvConf()
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_RESOLV_CONF_BYTES + 1)
    except OSError as e:
        raise DNSConfigError(f"cannot read --resolv-conf {path}: {e.strerror}") from e
    if len(data) > MAX_RESOLV_CONF_BYTES:
        raise DNSConfigError(f"--resolv-conf {path} is larger than {MAX_RESOLV_CONF_BYTES} bytes")
    return parse_resolv_conf(data.decode("utf-8", "replace"))


def omit_duplicates(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


def merge_options(
    existing: Iterable[str], extra: Sequence[core_pb2.PodDNSConfigOption]
) -> list[str]:
    """mergeDNSOptions: NAME or NAME:VALUE; an option of dnsConfig replaces the one of the same
    name (kept in its place; Kubernetes' order is a Go map's, i.e. none)."""
    merged: dict[str, str] = {}
    for option in existing:
        name, _, value = option.partition(":")
        merged[name] = value
    for o in extra:
        merged[o.name] = o.value if o.HasField("value") else ""
    return [f"{name}:{value}" if value else name for name, value in merged.items()]


@dataclass(frozen=True)
class PodDNS:
    """The pod's DNS settings and the warnings (reason, message) for its events."""

    # None: the runtime's own, the node's resolv.conf (a host-network pod with Default).
    config: DNSConfig | None
    warnings: Sequence[tuple[str, str]] = field(default_factory=tuple)


@dataclass(frozen=True)
class DNSConfigurer:
    """The kubelet's --cluster-dns, --cluster-domain and --resolv-conf."""

    cluster_dns: Sequence[str] = ()
    cluster_domain: str = ""
    resolv_conf: str = "/etc/resolv.conf"

    def cluster_searches(self, namespace: str, host_searches: Iterable[str]) -> list[str]:
        if not self.cluster_domain:
            return list(host_searches)
        domain = self.cluster_domain
        ours = [f"{namespace}.svc.{domain}", f"svc.{domain}", domain]
        return omit_duplicates([*ours, *host_searches])

    def pod_dns(self, pod: core_pb2.Pod) -> PodDNS:
        """GetPodDNS. Raises DNSConfigError when --resolv-conf cannot be read."""
        host = read_resolv_conf(self.resolv_conf)
        servers, searches, options = list(host.nameservers), list(host.searches), list(host.options)
        warnings: list[tuple[str, str]] = []
        policy = pod.spec.dns_policy or CLUSTER_FIRST
        if policy == CLUSTER_FIRST and pod.spec.host_network:
            policy = DEFAULT
        if policy == NONE:
            servers, searches, options = [], [], []
        elif policy in (CLUSTER_FIRST, CLUSTER_FIRST_WITH_HOST_NET) and self.cluster_dns:
            servers = list(self.cluster_dns)
            searches = self.cluster_searches(pod.metadata.namespace, searches)
            options = list(DEFAULT_OPTIONS)
        else:  # Default, and ClusterFirst without a cluster DNS
            if policy != DEFAULT:
                warnings.append(
                    (
                        "MissingClusterDNS",
                        f'pod: "{pod.metadata.name}_{pod.metadata.namespace}'
                        f'({pod.metadata.uid})". kubelet does not have ClusterDNS IP configured '
                        f'and cannot create Pod using "{CLUSTER_FIRST}" policy. Falling back to '
                        f'"{DEFAULT}" policy.',
                    )
                )
            if not self.resolv_conf:
                servers, searches = ["127.0.0.1"], ["."]
        if policy == DEFAULT and pod.spec.host_network and not pod.spec.HasField("dns_config"):
            return PodDNS(None, tuple(warnings))
        if pod.spec.HasField("dns_config"):
            extra = pod.spec.dns_config
            servers = omit_duplicates([*servers, *extra.nameservers])
            searches = omit_duplicates([*searches, *extra.searches])
            options = merge_options(options, extra.options)
        servers, searches = fit_limits(servers, searches, warnings)
        return PodDNS(DNSConfig(tuple(servers), tuple(searches), tuple(options)), tuple(warnings))


def fit_limits(
    servers: list[str], searches: list[str], warnings: list[tuple[str, str]]
) -> tuple[list[str], list[str]]:
    """formDNSConfigFitsLimits: what a resolver reads of a resolv.conf, and a warning for each
    cut."""
    if len(servers) > MAX_NAMESERVERS:
        servers = servers[:MAX_NAMESERVERS]
        warnings.append(
            (
                "DNSConfigForming",
                "Nameserver limits were exceeded, some nameservers have been omitted, the "
                f"applied nameserver line is: {' '.join(servers)}",
            )
        )
    exceeded = len(searches) > MAX_SEARCH_PATHS
    # Some resolvers (glibc 2.28) abort on a search domain longer than a domain name can be.
    kept = [s for s in searches[:MAX_SEARCH_PATHS] if len(s) <= MAX_DOMAIN_LENGTH]
    exceeded = exceeded or len(kept) < len(searches[:MAX_SEARCH_PATHS])
    while kept and len(" ".join(kept)) > MAX_SEARCH_LIST_CHARS:
        kept.pop()
        exceeded = True
    if exceeded:
        warnings.append(
            (
                "DNSConfigForming",
                "Search Line limits were exceeded, some search paths have been omitted, the "
                f"applied search line is: {' '.join(kept)}",
            )
        )
    return servers, kept
