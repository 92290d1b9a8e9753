"""The control plane's static pod manifests, as `kubeadm init phase control-plane` and `kubeadm
init phase etcd local` write them into /etc/kubernetes/manifests (cmd/kubeadm/app/phases/
controlplane/manifests.go, phases/etcd/local.go): etcd, kube-apiserver, kube-controller-manager
and kube-scheduler, each a hostNetwork pod in kube-system labelled component=<name> and
tier=control-plane, at priority system-node-critical, reading the machine's PKI through a hostPath.

The kubelet of each control-plane machine runs them before any apiserver answers, and mirrors them
as kube-system/<name>-<node> once one does. Every member of the etcd cluster is named in
--initial-cluster; each apiserver talks to every member, the controller-manager and the scheduler
to their own machine's apiserver (kubeadm's default: the local apiserver, not the load
balancer)."""

from __future__ import annotations

import copy
from dataclasses import dataclass

from podplane.apimachinery.json_types import JSONObject
from podplane.componentbase.pki import Member

IMAGE = "podplane/control-plane:dev"
# Where the machine keeps its PKI (the node's volume) and where the pods read it.
HOST_PKI = "/etc/podplane/pki"
PKI = "/etc/kubernetes/pki"
ETCD_DATA = "/var/lib/etcd"
ETCD_CLIENT_PORT = 2379
ETCD_PEER_PORT = 2380
ETCD_METRICS_PORT = 2381
APISERVER_PORT = 6443
APISERVER_TOKEN_PORT = 6444
APISERVER_REST_PORT = 8443
CONTROLLER_MANAGER_HEALTH_PORT = 10257
SCHEDULER_HEALTH_PORT = 10259
SYSTEM_NODE_CRITICAL = 2000001000
COMPONENTS = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler")


@dataclass(frozen=True)
class ControlPlane:
    """This machine (`local`), every member of the control plane, and the cluster's settings."""

    local: Member
    members: tuple[Member, ...]
    service_cidr: str = "10.96.0.0/12"
    cluster_cidr: str = "10.244.0.0/16"
    service_account_issuer: str = "https://kubernetes.default.svc.cluster.local"
    # "new" for the members that start the cluster together; "existing" for one that joins it.
    initial_cluster_state: str = "new"

    def etcd_servers(self) -> str:
        """The apiserver's etcd: its own machine's member, as kubeadm's stacked etcd has it
        (getAPIServerCommand: https://127.0.0.1:2379). A machine's apiserver and etcd then fail
        together, and the load balancer takes that apiserver out; over every member, each
        apiserver would send a share of its calls to a hung machine's member until its
        connection to it timed out (its watches too), and stall with it."""
        return f"https://127.0.0.1:{ETCD_CLIENT_PORT}"

    def initial_cluster(self) -> str:
        return ",".join(f"{m.name}=https://{m.address}:{ETCD_PEER_PORT}" for m in self.members)


def _pki_volume() -> JSONObject:
    return {"name": "k8s-certs", "hostPath": {"path": HOST_PKI, "type": "DirectoryOrCreate"}}


def _pki_mount() -> JSONObject:
    return {"name": "k8s-certs", "mountPath": PKI, "readOnly": True}


def _probe(path: str, port: int, scheme: str, failures: int, host: str = "127.0.0.1") -> JSONObject:
    """kubeadm's probes: generous, since a busy machine is not a dead component."""
    return {
        "httpGet": {"host": host, "path": path, "port": port, "scheme": scheme},
        "initialDelaySeconds": 10,
        "periodSeconds": 10,
        "timeoutSeconds": 15,
        "failureThreshold": failures,
    }


def _pod(
    name: str,
    command: list[str],
    *,
    cpu: str,
    volumes: list[JSONObject],
    mounts: list[JSONObject],
    liveness: JSONObject,
    annotations: dict[str, str] | None = None,
) -> JSONObject:
    metadata: JSONObject = {
        "name": name,
        "namespace": "kube-system",
        "labels": {"component": name, "tier": "control-plane"},
    }
    if annotations:
        metadata["annotations"] = annotations
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata,
        "spec": {
            "containers": [
                {
                    "name": name,
                    "image": IMAGE,
                    "imagePullPolicy": "IfNotPresent",
                    "command": command,
                    "resources": {"requests": {"cpu": cpu}},
                    "livenessProbe": liveness,
                    "startupProbe": {**copy.deepcopy(liveness), "failureThreshold": 24},
                    "volumeMounts": mounts,
                }
            ],
            "hostNetwork": True,
            "priority": SYSTEM_NODE_CRITICAL,
            "priorityClassName": "system-node-critical",
            "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
            "volumes": volumes,
        },
    }


def etcd(cp: ControlPlane) -> JSONObject:
    ip = cp.local.address
    command = [
        "etcd",
        f"--name={cp.local.name}",
        f"--data-dir={ETCD_DATA}",
        f"--advertise-client-urls=https://{ip}:{ETCD_CLIENT_PORT}",
        f"--listen-client-urls=https://127.0.0.1:{ETCD_CLIENT_PORT},https://{ip}:{ETCD_CLIENT_PORT}",
        f"--listen-metrics-urls=http://127.0.0.1:{ETCD_METRICS_PORT},http://{ip}:{ETCD_METRICS_PORT}",
        f"--initial-advertise-peer-urls=https://{ip}:{ETCD_PEER_PORT}",
        f"--listen-peer-urls=https://{ip}:{ETCD_PEER_PORT}",
        f"--initial-cluster={cp.initial_cluster()}",
        f"--initial-cluster-state={cp.initial_cluster_state}",
        "--initial-cluster-token=podplane",
        f"--cert-file={PKI}/etcd-server.crt",
        f"--key-file={PKI}/etcd-server.key",
        f"--trusted-ca-file={PKI}/ca.crt",
        "--client-cert-auth=true",
        f"--peer-cert-file={PKI}/etcd-server.crt",
        f"--peer-key-file={PKI}/etcd-server.key",
        f"--peer-trusted-ca-file={PKI}/ca.crt",
        "--peer-client-cert-auth=true",
        "--snapshot-count=10000",
    ]
    return _pod(
        "etcd",
        command,
        cpu="100m",
        volumes=[
            {"name": "etcd-data", "hostPath": {"path": ETCD_DATA, "type": "DirectoryOrCreate"}},
            _pki_volume(),
        ],
        mounts=[{"name": "etcd-data", "mountPath": ETCD_DATA}, _pki_mount()],
        liveness=_probe("/health", ETCD_METRICS_PORT, "HTTP", 8),
        annotations={
            "kubeadm.kubernetes.io/etcd.advertise-client-urls": f"https://{ip}:{ETCD_CLIENT_PORT}"
        },
    )


def kube_apiserver(cp: ControlPlane) -> JSONObject:
    ip = cp.local.address
    command = [
        "python",
        "-m",
        "apiserver",
        f"--advertise-address={ip}",
        "--bind-address=0.0.0.0",
        f"--port={APISERVER_PORT}",
        f"--token-port={APISERVER_TOKEN_PORT}",
        f"--rest-port={APISERVER_REST_PORT}",
        f"--etcd-servers={cp.etcd_servers()}",
        f"--etcd-cafile={PKI}/ca.crt",
        f"--etcd-certfile={PKI}/apiserver-etcd-client.crt",
        f"--etcd-keyfile={PKI}/apiserver-etcd-client.key",
        f"--tls-cert-file={PKI}/apiserver.crt",
        f"--tls-private-key-file={PKI}/apiserver.key",
        f"--client-ca-file={PKI}/ca.crt",
        f"--token-auth-file={PKI}/tokens.csv",
        f"--kubelet-certificate-authority={PKI}/ca.crt",
        f"--kubelet-client-certificate={PKI}/apiserver-kubelet-client.crt",
        f"--kubelet-client-key={PKI}/apiserver-kubelet-client.key",
        f"--service-cluster-ip-range={cp.service_cidr}",
        f"--service-account-issuer={cp.service_account_issuer}",
        f"--service-account-signing-key-file={PKI}/sa.key",
        f"--service-account-key-file={PKI}/sa.pub",
        # The aggregation layer's front proxy, as kubeadm configures it.
        f"--proxy-client-cert-file={PKI}/front-proxy-client.crt",
        f"--proxy-client-key-file={PKI}/front-proxy-client.key",
        f"--requestheader-client-ca-file={PKI}/front-proxy-ca.crt",
        "--requestheader-allowed-names=front-proxy-client",
        "--requestheader-extra-headers-prefix=X-Remote-Extra-",
        "--requestheader-group-headers=X-Remote-Group",
        "--requestheader-username-headers=X-Remote-User",
        "--enable-bootstrap-token-auth",
    ]
    return _pod(
        "kube-apiserver",
        command,
        cpu="250m",
        volumes=[_pki_volume()],
        mounts=[_pki_mount()],
        liveness=_probe("/livez", APISERVER_REST_PORT, "HTTPS", 8, host=ip),
        annotations={
            "kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint": (
                f"{ip}:{APISERVER_REST_PORT}"
            )
        },
    )


def _client_flags(component: str) -> list[str]:
    return [
        f"--server=127.0.0.1:{APISERVER_PORT}",
        f"--ca-file={PKI}/ca.crt",
        f"--cert-file={PKI}/{component}.crt",
        f"--key-file={PKI}/{component}.key",
    ]


def kube_controller_manager(cp: ControlPlane) -> JSONObject:
    command = [
        "python",
        "-m",
        "controller",
        *_client_flags("controller-manager"),
        f"--health-port={CONTROLLER_MANAGER_HEALTH_PORT}",
        "--bind-address=0.0.0.0",
        f"--cluster-cidr={cp.cluster_cidr}",
        f"--root-ca-file={PKI}/ca.crt",
        f"--cluster-signing-cert-file={PKI}/ca.crt",
        f"--cluster-signing-key-file={PKI}/ca.key",
        "--use-service-account-credentials=true",
        f"--token-server=127.0.0.1:{APISERVER_TOKEN_PORT}",
    ]
    return _pod(
        "kube-controller-manager",
        command,
        cpu="200m",
        volumes=[_pki_volume()],
        mounts=[_pki_mount()],
        liveness=_grpc_probe(CONTROLLER_MANAGER_HEALTH_PORT),
    )


def kube_scheduler(cp: ControlPlane) -> JSONObject:
    command = [
        "python",
        "-m",
        "scheduler",
        *_client_flags("scheduler"),
        f"--health-port={SCHEDULER_HEALTH_PORT}",
        "--bind-address=0.0.0.0",
    ]
    return _pod(
        "kube-scheduler",
        command,
        cpu="100m",
        volumes=[_pki_volume()],
        mounts=[_pki_mount()],
        liveness=_grpc_probe(SCHEDULER_HEALTH_PORT),
    )


def _grpc_probe(port: int) -> JSONObject:
    """The scheduler's and controller-manager's health is a gRPC health service (on the
    machine's loopback), where kube-scheduler's is HTTPS /healthz."""
    probe = _probe("", port, "", 8)
    del probe["httpGet"]
    return {"grpc": {"port": port}, **probe}


def manifests(cp: ControlPlane) -> dict[str, JSONObject]:
    """File name -> manifest, for /etc/kubernetes/manifests."""
    return {
        "etcd.yaml": etcd(cp),
        "kube-apiserver.yaml": kube_apiserver(cp),
        "kube-controller-manager.yaml": kube_controller_manager(cp),
        "kube-scheduler.yaml": kube_scheduler(cp),
    }
