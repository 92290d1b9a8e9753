"""The cluster's PKI, as kubeadm lays it out: one CA, serving certificates (apiserver, etcd, each
kubelet) and client certificates whose CN is the user and O the groups (Kubernetes' x509
authenticator), the service account key pair (sa.key signs tokens, sa.pub verifies them), plus a
static token file for users (--token-auth-file).

    python -m podplane.componentbase.pki build/pki --nodes node-1,node-2,node-3
    python -m podplane.componentbase.pki /pki --control-plane cp-1=10.250.0.11,cp-2=10.250.0.12 \
        --load-balancer lb=10.250.0.10        (a highly available control plane, as kubeadm's)

Idempotent: an existing CA is kept (certificates it signed stay valid), and so is every existing
certificate (but one that lacks names its spec now gives, which is issued again) and the token
file; only what is missing is written. Host/test tool only: needs the
`cryptography` package (requirements-dev.txt), which the images do not install.
"""

from __future__ import annotations

import argparse
import datetime
import ipaddress
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALIDITY = datetime.timedelta(days=365)
# kube-apiserver's default --service-cluster-ip-range; its first address is the `kubernetes`
# Service's cluster IP, which in-cluster clients reach the apiserver at.
DEFAULT_SERVICE_CIDR = "10.96.0.0/12"
# The names in-cluster clients use for the apiserver (kubeadm's apiserver certificate SANs).
KUBERNETES_SERVICE_NAMES = (
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
)
CA_VALIDITY = datetime.timedelta(days=3650)


@dataclass(frozen=True)
class CertSpec:
    """One key pair and certificate: <name>.crt / <name>.key."""

    name: str
    common_name: str
    organizations: tuple[str, ...] = ()
    dns_names: tuple[str, ...] = ()
    ip_addresses: tuple[str, ...] = ()
    server: bool = False
    client: bool = False


FRONT_PROXY_CA = "front-proxy-ca"
POD_ROUTES_USER = "podplane:pod-routes"
PROMETHEUS_USER = "prometheus"
FRONT_PROXY_CLIENT = CertSpec("front-proxy-client", "front-proxy-client", client=True)


def first_service_ip(service_cidr: str) -> str:
    """The first address of the Services' range (10.96.0.1 of 10.96.0.0/12), the `kubernetes`
    Service's cluster IP."""
    network = ipaddress.ip_network(service_cidr, strict=False)
    return str(network.network_address + 1)


@dataclass(frozen=True)
class Member:
    """A control-plane machine (or the load balancer in front of them): its name and address."""

    name: str
    address: str


def parse_members(flag: str, value: str) -> list[Member]:
    """NAME=IP,NAME=IP...: ValueError naming the flag when an entry is not one."""
    members = []
    for entry in filter(None, (e.strip() for e in value.split(","))):
        name, sep, address = entry.partition("=")
        if not sep or not name:
            raise ValueError(f'{flag}: "{entry}" is not NAME=IP')
        try:
            ipaddress.ip_address(address)
        except ValueError:
            raise ValueError(f'{flag}: "{address}" is not an IP address') from None
        members.append(Member(name, address))
    return members


def cluster_certs(
    nodes: list[str],
    service_cidr: str = DEFAULT_SERVICE_CIDR,
    control_plane: list[Member] | None = None,
    load_balancer: Member | None = None,
) -> list[CertSpec]:
    """Every certificate of the compose cluster (and of the integration tests). With a
    `control_plane`, each member is also a node, serves etcd to clients and peers with a
    certificate of its own (etcd-<name>, as kubeadm's etcd/server.crt and peer.crt), and the
    apiserver's certificate names every member and the load balancer, through which clients
    reach any of them."""
    members = [*(control_plane or []), *([load_balancer] if load_balancer else [])]
    specs = [
        # Reached as `apiserver` across the compose network, and from pods through the
        # `kubernetes` Service by its names and cluster IP.
        CertSpec(
            "apiserver",
            "kube-apiserver",
            dns_names=(
                "apiserver",
                "localhost",
                *KUBERNETES_SERVICE_NAMES,
                *(m.name for m in members),
            ),
            ip_addresses=(
                "127.0.0.1",
                first_service_ip(service_cidr),
                *(m.address for m in members),
            ),
            server=True,
        ),
        CertSpec(
            "apiserver-kubelet-client",
            "kube-apiserver-kubelet-client",
            ("system:masters",),
            client=True,
        ),
        CertSpec("apiserver-etcd-client", "kube-apiserver-etcd-client", client=True),
        CertSpec(
            "etcd-server",
            "etcd",
            dns_names=("etcd", "localhost"),
            ip_addresses=("127.0.0.1",),
            server=True,
            client=True,
        ),
        CertSpec("scheduler", "system:kube-scheduler", client=True),
        CertSpec("controller-manager", "system:kube-controller-manager", client=True),
        CertSpec("admin", "kubernetes-admin", ("system:masters",), client=True),
        # The route keeper beside the compose apiserver (docker/apiserver-entrypoint.sh): it
        # reads the Nodes (docker/addons/pod-routes.yaml binds it) to reach the pods.
        CertSpec("pod-routes", POD_ROUTES_USER, client=True),
        # The compose cluster's Prometheus scrapes the kubelets' HTTPS port (10250) with it, as
        # kube-prometheus' prometheus-k8s does with its token: a plain user, no system: group;
        # docker/addons/prometheus.yaml lets it get nodes/metrics.
        CertSpec("prometheus", PROMETHEUS_USER, client=True),
    ]
    for member in control_plane or []:
        # Each member's names every member: an apiserver's one channel to the cluster checks
        # one name, whichever member answers (apiserver/storage/etcd.py).
        specs.append(
            CertSpec(
                f"etcd-{member.name}",
                member.name,
                dns_names=(*(m.name for m in control_plane or []), "localhost"),
                ip_addresses=(*(m.address for m in control_plane or []), "127.0.0.1"),
                server=True,
                client=True,
            )
        )
    for node in [*nodes, *(m.name for m in control_plane or [])]:
        specs.append(CertSpec(f"{node}", f"system:node:{node}", ("system:nodes",), client=True))
        specs.append(
            CertSpec(
                f"{node}-kubelet-server",
                node,
                dns_names=(node, "localhost"),
                ip_addresses=("127.0.0.1",),
                server=True,
            )
        )
    return specs


def _name(common_name: str, organizations: tuple[str, ...] = ()) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in organizations]
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attrs)


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o644)  # mounted read-only into containers running as other users


def ensure_ca(
    out: Path, common_name: str = "podplane-ca", name: str = "ca"
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """<name>.crt and <name>.key: the cluster's CA (ca), or the front proxy's (front-proxy-ca)."""
    crt, key = out / f"{name}.crt", out / f"{name}.key"
    if crt.exists() and key.exists():
        loaded = serialization.load_pem_private_key(key.read_bytes(), None)
        assert isinstance(loaded, ec.EllipticCurvePrivateKey), f"{key}: not an EC key"
        return x509.load_pem_x509_certificate(crt.read_bytes()), loaded
    ca_key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    subject = _name(common_name)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + CA_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    _write_key(key, ca_key)
    crt.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert, ca_key


def issue(
    out: Path, spec: CertSpec, ca: x509.Certificate, ca_key: ec.EllipticCurvePrivateKey
) -> None:
    """Writes <name>.crt and <name>.key signed by the CA, unless both exist already and the
    certificate names everything the spec names."""
    crt, key_path = out / f"{spec.name}.crt", out / f"{spec.name}.key"
    if crt.exists() and key_path.exists() and _names_all(crt, spec):
        return
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    usages = ([ExtendedKeyUsageOID.SERVER_AUTH] if spec.server else []) + (
        [ExtendedKeyUsageOID.CLIENT_AUTH] if spec.client else []
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(spec.common_name, spec.organizations))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
    )
    sans: list[x509.GeneralName] = [x509.DNSName(d) for d in spec.dns_names]
    sans += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in spec.ip_addresses]
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())
    _write_key(key_path, key)
    crt.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _names_all(crt: Path, spec: CertSpec) -> bool:
    """Whether the certificate's subject alternative names include every one of the spec's (a
    certificate written before a name was added to its spec is issued again)."""
    cert = x509.load_pem_x509_certificate(crt.read_bytes())
    try:
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return not spec.dns_names and not spec.ip_addresses
    dns = set(sans.get_values_for_type(x509.DNSName))
    ips = {str(ip) for ip in sans.get_values_for_type(x509.IPAddress)}
    return set(spec.dns_names) <= dns and set(spec.ip_addresses) <= ips


def ensure_tokens(out: Path) -> None:
    """tokens.csv (token,user,uid,"groups"), and admin.token / viewer.token holding one token each
    for clients' --token-file."""
    path = out / "tokens.csv"
    if path.exists():
        return
    rows = [("admin", "admin", "system:masters"), ("viewer", "viewer", "viewers")]
    lines = []
    for user, uid, groups in rows:
        token = secrets.token_hex(24)
        (out / f"{user}.token").write_text(token + "\n")
        lines.append(f'{token},{user},{uid},"{groups}"')
    path.write_text("\n".join(lines) + "\n")


def ensure_service_account_key(out: Path) -> None:
    """sa.key (RSA 2048, PKCS#8) and sa.pub, as kubeadm writes them: the apiserver's
    --service-account-signing-key-file and --service-account-key-file (tokens are signed RS256)."""
    key_path, pub_path = out / "sa.key", out / "sa.pub"
    if key_path.exists() and pub_path.exists():
        return
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o644)  # mounted read-only into the apiserver's container
    pub_path.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )


def build(
    out: Path,
    nodes: list[str],
    service_cidr: str = DEFAULT_SERVICE_CIDR,
    control_plane: list[Member] | None = None,
    load_balancer: Member | None = None,
) -> None:
    out.mkdir(parents=True, exist_ok=True)
    ca, ca_key = ensure_ca(out)
    for spec in cluster_certs(nodes, service_cidr, control_plane, load_balancer):
        issue(out, spec, ca, ca_key)
    # The aggregation layer's own CA and the client certificate the apiserver proxies with
    # (kubeadm's front-proxy-ca and front-proxy-client): aggregated API servers trust this CA,
    # and this CA only, for the X-Remote-* headers it sends.
    front_proxy_ca, front_proxy_key = ensure_ca(out, "front-proxy-ca", FRONT_PROXY_CA)
    issue(out, FRONT_PROXY_CLIENT, front_proxy_ca, front_proxy_key)
    ensure_service_account_key(out)
    ensure_tokens(out)


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(
        prog="python -m podplane.componentbase.pki",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("out", type=Path, help="folder of the PKI (e.g. build/pki)")
    p.add_argument(
        "--nodes",
        default="node-1,node-2,node-3",
        help="comma-separated node names: a client and a serving cert each",
    )
    p.add_argument(
        "--service-cluster-ip-range",
        default=DEFAULT_SERVICE_CIDR,
        help="the apiserver's --service-cluster-ip-range: its first address is named in the "
        f"apiserver's certificate (default {DEFAULT_SERVICE_CIDR})",
    )
    p.add_argument(
        "--control-plane",
        default="",
        help="NAME=IP,...: the control-plane machines, each a node with its own etcd "
        "certificate, all named in the apiserver's",
    )
    p.add_argument(
        "--load-balancer",
        default="",
        help="NAME=IP: the load balancer in front of the apiservers, named in their certificate",
    )
    args = p.parse_args(argv)
    try:
        first_service_ip(args.service_cluster_ip_range)
    except ValueError as e:
        p.error(f"--service-cluster-ip-range: {e}")
    try:
        control_plane = parse_members("--control-plane", args.control_plane)
        balancers = parse_members("--load-balancer", args.load_balancer)
    except ValueError as e:
        p.error(str(e))
    if len(balancers) > 1:
        p.error("--load-balancer: one NAME=IP")
    nodes = [n.strip() for n in args.nodes.split(",") if n.strip()]
    build(
        args.out,
        nodes,
        args.service_cluster_ip_range,
        control_plane,
        balancers[0] if balancers else None,
    )
    print(f"PKI in {args.out} (CA {args.out / 'ca.crt'})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
