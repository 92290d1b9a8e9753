"""Certificates for users on the compose cluster, as Kubernetes' documentation walks through them
(reference/access-authn-authz/certificate-signing-requests, "How to issue a certificate for a
user"): a key and a request made with openssl's library, a CertificateSigningRequest applied with
kubectl, `kubectl certificate approve`, the certificate the controller-manager's csrsigning
controller issues with the cluster CA read back, and a kubeconfig holding it that kubectl then
signs in with as that user."""

from __future__ import annotations

import base64
import json
import secrets
from pathlib import Path

import yaml
from cryptography.hazmat.primitives import serialization

from tests.e2e.kubectl import KUBECONFIG, Kubectl
from tests.e2e.waiting import eventually
from tests.x509_requests import new_key, request_pem


def test_a_users_certificate_is_approved_issued_and_signs_kubectl_in(tmp_path: Path) -> None:
    admin = Kubectl()
    user = f"jane-{secrets.token_hex(3)}"
    key = new_key()
    manifest = {
        "apiVersion": "certificates.k8s.io/v1",
        "kind": "CertificateSigningRequest",
        "metadata": {"name": user},
        "spec": {
            "request": base64.b64encode(request_pem(user, ("developers",), key=key)).decode(),
            "signerName": "kubernetes.io/kube-apiserver-client",
            "expirationSeconds": 86400,
            "usages": ["client auth"],
        },
    }
    assert admin.ok("apply", "-f", "-", stdin=yaml.safe_dump(manifest)) == (
        f"certificatesigningrequest.certificates.k8s.io/{user} created\n"
    )
    try:
        header, row = admin.ok("get", "csr", user).splitlines()
        assert header.split() == [
            "NAME",
            "AGE",
            "SIGNERNAME",
            "REQUESTOR",
            "REQUESTEDDURATION",
            "CONDITION",
        ]
        assert row.split()[2:] == [
            "kubernetes.io/kube-apiserver-client",
            "kubernetes-admin",
            "24h",
            "Pending",
        ]
        assert admin.ok("certificate", "approve", user) == (
            f"certificatesigningrequest.certificates.k8s.io/{user} approved\n"
        )

        def issued() -> str:
            return admin.ok("get", "csr", user, "-o", "jsonpath={.status.certificate}")

        certificate = base64.b64decode(eventually(issued, 60, "the certificate issued"))
        assert admin.ok("get", "csr", user).splitlines()[1].split()[-1] == "Approved,Issued"

        # A kubeconfig of that user (the admin's cluster entry, the new key and certificate).
        config = yaml.safe_load(KUBECONFIG.read_text())
        key_file, cert_file = tmp_path / "user.key", tmp_path / "user.crt"
        key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        cert_file.write_bytes(certificate)
        config["users"] = [
            {
                "name": user,
                "user": {"client-certificate": str(cert_file), "client-key": str(key_file)},
            }
        ]
        for context in config["contexts"]:
            context["context"]["user"] = user
        user_config = tmp_path / "kubeconfig"
        user_config.write_text(yaml.safe_dump(config))
        whoami = json.loads(Kubectl(kubeconfig=user_config).ok("auth", "whoami", "-o", "json"))
        info = whoami["status"]["userInfo"]
        assert info["username"] == user
        assert set(info["groups"]) == {"developers", "system:authenticated"}
        denied = Kubectl(kubeconfig=user_config).run("get", "secrets", "-n", "kube-system")
        assert denied.code == 1
        assert f'User "{user}" cannot list resource "secrets"' in denied.err
    finally:
        admin.run("delete", "csr", user)
