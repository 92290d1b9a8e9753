"""A worker joins the running highly available cluster from outside its compose project
(scripts/join.sh: `docker run` of a node with a bootstrap token and the CA's certificate, as
`kubeadm join` is given them): its kubelet's client certificate request is approved by the
controller-manager, its serving certificate's by the script as an administrator would, and the
node becomes Ready and runs pods, whose logs and exec go through that serving certificate."""

from __future__ import annotations

import base64
import json
import secrets
import subprocess
from typing import Any

from cryptography import x509
from cryptography.x509.oid import NameOID

from tests.e2e_ha.ha_cluster import ROOT, kubectl, pod_on, ready_nodes

WORKERS = "!node-role.kubernetes.io/control-plane"


def test_a_worker_joins_with_a_bootstrap_token_and_runs_pods() -> None:
    name = f"join-{secrets.token_hex(3)}"
    container = f"podplane-ha-{name}"
    namespace = f"ha-join-{secrets.token_hex(3)}"
    try:
        joined = subprocess.run(
            [str(ROOT / "scripts" / "join.sh"), name],
            cwd=ROOT,
            text=True,
            capture_output=True,
            timeout=300,
        )
        assert joined.returncode == 0, joined.stderr
        assert joined.stdout.strip() == name

        csrs = json.loads(kubectl("get", "csr", "-o", "json").stdout)["items"]
        # Both of its requests: the client certificate's and the serving certificate's.
        mine = {c["spec"]["signerName"]: c for c in csrs if _subject(c) == f"system:node:{name}"}
        for signer in (
            "kubernetes.io/kube-apiserver-client-kubelet",
            "kubernetes.io/kubelet-serving",
        ):
            conditions = {c["type"] for c in mine[signer]["status"]["conditions"]}
            assert "Approved" in conditions, (signer, conditions)
            assert mine[signer]["status"].get("certificate"), f"{signer}: not issued"
        # The client certificate was asked for with the token, as its bootstrap user.
        assert mine["kubernetes.io/kube-apiserver-client-kubelet"]["spec"]["username"].startswith(
            "system:bootstrap:"
        )

        kubectl("create", "namespace", namespace)
        pod_on(namespace, "hello", name, "echo joined; sleep 3600")
        assert kubectl("logs", "-n", namespace, "hello").stdout.strip() == "joined"
        assert kubectl("exec", "-n", namespace, "hello", "--", "hostname").stdout.strip() == "hello"

        # Its pods and an earlier node's reach each other: every node routes to the new pod
        # CIDR as the Node says (netpol --pod-routes), with nothing told to the earlier nodes.
        earlier = next((n for n in sorted(ready_nodes(WORKERS)) if n != name), None)
        assert earlier, "no other Ready worker: `make up-ha` starts one (HA_WORKERS)"
        pod_on(
            namespace,
            "web",
            name,
            "mkdir -p /www; echo served > /www/index.html; httpd -f -p 8080 -h /www",
        )
        pod_on(namespace, "client", earlier, "sleep 3600")
        web_ip = kubectl(
            "get", "pod", "web", "-n", namespace, "-o", "jsonpath={.status.podIP}"
        ).stdout
        fetched = kubectl(
            "exec",
            "-n",
            namespace,
            "client",
            "--",
            "wget",
            "-T",
            "5",
            "-qO-",
            f"http://{web_ip}:8080/",
        )
        assert fetched.stdout.strip() == "served"
    finally:
        kubectl("delete", "namespace", namespace, "--wait=false", check=False)
        subprocess.run(["docker", "rm", "-fv", container], capture_output=True, check=False)
        kubectl("delete", "node", name, "--wait=false", check=False)


def _subject(csr: dict[str, Any]) -> str:
    """The CN of a request's subject."""
    request = x509.load_pem_x509_csr(base64.b64decode(csr["spec"]["request"]))
    names = request.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else ""
