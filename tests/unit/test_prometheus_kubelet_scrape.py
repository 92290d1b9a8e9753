"""The compose cluster's Prometheus scrapes the kubelets over HTTPS as kube-prometheus does: its
configuration's kubelet, cadvisor and kubelet-probes jobs (port 10250, every 30 s, the cluster CA
and a client certificate), the certificate the PKI issues for it (the user `prometheus`, no
group), the files docker/pki-init.sh hands it and docker-compose.yml mounts where the jobs read
them, and the add-on that lets that user get nodes/metrics, which is what the kubelet asks for
those paths, and nothing else of a node."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from apiserver.auth.rbac.cache import PolicyCache
from apiserver.auth.rbac.resolver import RBACAuthorizer
from apiserver.auth.user import UserInfo
from apiserver.validation import rbac as rbac_validation
from kubelet.server.auth import certificate_user, request_attributes
from podplane.api.rbac.v1 import rbac_pb2
from podplane.apimachinery import manifest
from podplane.componentbase import pki

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "docker" / "prometheus" / "prometheus.yml"
COMPOSE = ROOT / "docker-compose.yml"
PKI_INIT = ROOT / "docker" / "pki-init.sh"
ADDON = ROOT / "docker" / "addons" / "prometheus.yaml"
NODES = ("node-1", "node-2", "node-3")
KUBELET_JOBS = {"kubelet": "/metrics", "cadvisor": "/metrics/cadvisor", "kubelet-probes":
                "/metrics/probes"}  # fmt: skip


def scrape_configs() -> dict[str, dict[str, Any]]:
    """Each job's configuration, with the global scrape_interval where it names none."""
    config = yaml.safe_load(CONFIG.read_text())
    interval = config["global"]["scrape_interval"]
    return {
        job["job_name"]: {"scrape_interval": interval, **job} for job in config["scrape_configs"]
    }


@pytest.mark.parametrize(("job", "path"), KUBELET_JOBS.items())
def test_each_kubelet_endpoint_is_a_job_over_https_every_30_seconds(job: str, path: str) -> None:
    scrape = scrape_configs()[job]
    assert scrape.get("metrics_path", "/metrics") == path
    assert scrape["scheme"] == "https"
    assert scrape["scrape_interval"] == "30s"
    assert scrape["honor_labels"] is True
    targets = [t for group in scrape["static_configs"] for t in group["targets"]]
    # The node's name is the host dialled, so the name its serving certificate is checked for.
    assert targets == [f"{node}:10250" for node in NODES]
    tls = scrape["tls_config"]
    assert "insecure_skip_verify" not in tls
    assert tls == {
        "ca_file": "/etc/prometheus/pki/ca.crt",
        "cert_file": "/etc/prometheus/pki/prometheus.crt",
        "key_file": "/etc/prometheus/pki/prometheus.key",
    }
    assert {"source_labels": ["__metrics_path__"], "target_label": "metrics_path"} in scrape[
        "relabel_configs"
    ]


def test_cadvisors_own_timestamps_are_not_honored() -> None:
    assert scrape_configs()["cadvisor"]["honor_timestamps"] is False


def test_the_files_the_jobs_read_are_the_prometheus_volumes() -> None:
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    assert "pki-prometheus:/out/prometheus" in services["pki"]["volumes"]
    assert "pki-prometheus:/etc/prometheus/pki:ro" in services["prometheus"]["volumes"]
    assert services["prometheus"]["depends_on"]["pki"]["condition"] == (
        "service_completed_successfully"
    )
    script = PKI_INIT.read_text()
    assert 'copy "$dir" ca.crt prometheus.crt prometheus.key' in script
    # Prometheus runs as a user whose uid Debian allocates: the key is readable by all.
    assert 'chmod 0644 "$dir/ca.crt" "$dir/prometheus.crt" "$dir/prometheus.key"' in script


def test_the_pki_issues_prometheus_a_client_certificate_without_groups(tmp_path: Path) -> None:
    pki.build(tmp_path, list(NODES))
    cert = x509.load_pem_x509_certificate((tmp_path / "prometheus.crt").read_bytes())
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "prometheus"
    assert cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME) == []
    usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usages) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    assert (tmp_path / "prometheus.key").stat().st_mode & 0o777 == 0o644
    # Each kubelet's serving certificate names its node: the name Prometheus checks.
    for node in NODES:
        serving = x509.load_pem_x509_certificate(
            (tmp_path / f"{node}-kubelet-server.crt").read_bytes()
        )
        sans = serving.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert node in sans.get_values_for_type(x509.DNSName)


def prometheus_user() -> UserInfo:
    """The user a kubelet makes of Prometheus' certificate, as it sends it to the apiserver."""
    user = certificate_user(f"CN={pki.PROMETHEUS_USER}")
    assert user is not None
    return UserInfo(user.name, frozenset(user.groups))


def addon_policy() -> PolicyCache:
    policy = PolicyCache()
    for obj in manifest.load_objects(ADDON.read_text()):
        assert isinstance(obj, rbac_pb2.ClusterRole | rbac_pb2.ClusterRoleBinding)
        policy.put(obj)
    return policy


def test_the_addon_is_valid() -> None:
    kinds = []
    for obj in manifest.load_objects(ADDON.read_text()):
        kinds.append(type(obj).__name__)
        if isinstance(obj, rbac_pb2.ClusterRole):
            assert rbac_validation.cluster_role(obj) == []
    assert kinds == ["ClusterRole", "ClusterRoleBinding"]


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/metrics", True),
        ("/metrics/cadvisor", True),
        ("/metrics/probes", True),
        ("/metrics/resource", True),
        ("/stats/summary", False),
        ("/pods", False),
        ("/containerLogs/kube-system/coredns-1/clusterdns", False),
    ],
)
def test_the_addon_lets_prometheus_get_the_kubelets_metrics_only(path: str, allowed: bool) -> None:
    verb, subresource = request_attributes("GET", path)
    decision = RBACAuthorizer(addon_policy()).authorize_resource(
        prometheus_user(), verb, "", "nodes", subresource, "", "node-1"
    )
    assert decision.allowed is allowed
