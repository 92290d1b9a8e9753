"""The pod's hostname and the /etc/hosts the kubelet writes for it (kubelet_pods.go:
GeneratePodHostNameAndDomain, GetNodenameForKernel, makeHostsMount), bind-mounted into every
container of the pod that does not mount a volume there itself, as Kubernetes does whatever the
runtime: the file is `<root-dir>/pods/<uid>/etc-hosts`.

A pod on the pod network gets the managed file: localhost's lines, its IP and hostname (with
`subdomain`, the FQDN `<hostname>.<subdomain>.<namespace>.svc.<cluster domain>` before it), then
its hostAliases. A host-network pod gets the node's own /etc/hosts under a header, then its
hostAliases."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from podplane.api.core.v1 import core_pb2

MANAGED_HEADER = "# Kubernetes-managed hosts file.\n"
MANAGED_HEADER_HOST_NETWORK = "# Kubernetes-managed hosts file (host network).\n"
ETC_HOSTS = "/etc/hosts"
HOSTS_FILE = "etc-hosts"
# The kernel's limits: a hostname of 63 characters, a nodename (setHostnameAsFQDN) of 64.
MAX_HOSTNAME = 63
MAX_FQDN = 64


class HostnameError(Exception):
    """The pod's hostname cannot be what it asks (an FQDN too long for the kernel)."""


def pod_hostname_and_domain(pod: core_pb2.Pod, cluster_domain: str) -> tuple[str, str]:
    """(hostname, domain): spec.hostname or the pod's name, cut to 63 characters; with a
    subdomain, `<subdomain>.<namespace>.svc.<cluster domain>`."""
    hostname = pod.spec.hostname or pod.metadata.name
    if len(hostname) > MAX_HOSTNAME:
        hostname = hostname[:MAX_HOSTNAME].rstrip("-.") or "pod"
    domain = ""
    if pod.spec.subdomain:
        domain = f"{pod.spec.subdomain}.{pod.metadata.namespace}.svc.{cluster_domain}"
    return hostname, domain


def kernel_hostname(pod: core_pb2.Pod, cluster_domain: str) -> str:
    """The hostname the pod's containers see (uname's nodename): the FQDN with
    setHostnameAsFQDN and a subdomain, else the short name."""
    hostname, domain = pod_hostname_and_domain(pod, cluster_domain)
    if not (domain and pod.spec.set_hostname_as_fqdn):
        return hostname
    fqdn = f"{hostname}.{domain}"
    if len(fqdn) > MAX_FQDN:
        raise HostnameError(
            f"failed to construct FQDN from pod hostname and cluster domain, FQDN {fqdn} is too "
            f"long ({MAX_FQDN} characters is the max, {len(fqdn)} characters requested)"
        )
    return fqdn


def _alias_lines(aliases: Sequence[core_pb2.HostAlias]) -> str:
    if not aliases:
        return ""
    lines = [f"{a.ip}\t{chr(9).join(a.hostnames)}\n" for a in aliases]
    return "\n# Entries added by HostAliases.\n" + "".join(lines)


def managed_hosts(
    pod_ips: Sequence[str], hostname: str, domain: str, aliases: Sequence[core_pb2.HostAlias]
) -> str:
    lines = [
        MANAGED_HEADER,
        "127.0.0.1\tlocalhost\n",
        "::1\tlocalhost ip6-localhost ip6-loopback\n",
        "fe00::0\tip6-localnet\n",
        "fe00::0\tip6-mcastprefix\n",
        "fe00::1\tip6-allnodes\n",
        "fe00::2\tip6-allrouters\n",
    ]
    for ip in pod_ips:
        lines.append(
            f"{ip}\t{hostname}.{domain}\t{hostname}\n" if domain else f"{ip}\t{hostname}\n"
        )
    return "".join(lines) + _alias_lines(aliases)


def node_hosts(node_hosts_text: str, aliases: Sequence[core_pb2.HostAlias]) -> str:
    return MANAGED_HEADER_HOST_NETWORK + node_hosts_text + _alias_lines(aliases)


def mounts_etc_hosts(container: core_pb2.Container) -> bool:
    """Whether a volume of the container's own goes to /etc/hosts (then the kubelet's does not)."""
    return any(vm.mount_path == ETC_HOSTS for vm in container.volume_mounts)


def write_hosts_file(
    pod_dir: Path,
    pod: core_pb2.Pod,
    pod_ips: Sequence[str],
    cluster_domain: str,
    node_hosts_path: str = ETC_HOSTS,
) -> str:
    """Writes the pod's hosts file (blocking: run it in a thread); its path."""
    aliases = list(pod.spec.host_aliases)
    if pod.spec.host_network:
        content = node_hosts(Path(node_hosts_path).read_text(), aliases)
    else:
        hostname, domain = pod_hostname_and_domain(pod, cluster_domain)
        content = managed_hosts(pod_ips, hostname, domain, aliases)
    pod_dir.mkdir(parents=True, exist_ok=True)
    # Written in place, as the kubelet writes it: running containers have this very file
    # (inode) bind-mounted.
    path = pod_dir / HOSTS_FILE
    path.write_text(content)
    path.chmod(0o644)
    return str(path)
