"""The highly available profile's apiservers reach the pod network: the admission webhook of
examples/admission-webhook (its webhook.py, in a ConfigMap, run by the add-ons' image, which
every node has) in a pod on a worker, behind a Service that a ValidatingWebhookConfiguration
names. Every create through the load balancer (each a new connection, so the three apiservers
take their share) is judged by it: a pod labelled example.podplane.io/deny is refused with the
webhook's reason, another admitted. The apiservers run on the control-plane machines'
network, which routes to every node's pod CIDR (podplane/podroutes.py)."""

from __future__ import annotations

import base64
import json
import secrets
import tempfile
from pathlib import Path

from podplane.componentbase import pki
from tests.e2e_ha.ha_cluster import MEMBERS, ROOT, kubectl, ready_nodes, wait_pod_ready

WEBHOOK = ROOT / "examples" / "admission-webhook" / "webhook.py"


def _pod(name: str, labels: dict[str, str]) -> str:
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "labels": labels},
            "spec": {
                "restartPolicy": "Never",
                "containers": [{"name": "c", "image": "busybox", "command": ["true"]}],
            },
        }
    )


def _apply(manifest: object) -> None:
    with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
        json.dump(manifest, f)
        f.flush()
        kubectl("apply", "-f", f.name)


def test_every_apiserver_calls_a_webhook_in_a_pod_on_a_worker() -> None:
    workers = sorted(ready_nodes() - set(MEMBERS))
    assert workers, "no Ready worker: `make up-ha` joins one (HA_WORKERS)"
    namespace = f"ha-webhook-{secrets.token_hex(3)}"
    configuration = f"{namespace}.example.podplane.io"
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        ca, ca_key = pki.ensure_ca(out, "ha-webhook-ca")
        name = f"webhook.{namespace}.svc"
        pki.issue(out, pki.CertSpec("webhook", name, dns_names=(name,), server=True), ca, ca_key)
        crt, key = (out / "webhook.crt").read_text(), (out / "webhook.key").read_text()
        ca_pem = (out / "ca.crt").read_bytes()
    try:
        kubectl("create", "namespace", namespace)
        _apply(
            {
                "apiVersion": "v1",
                "kind": "List",
                "items": [
                    {
                        "apiVersion": "v1",
                        "kind": "Secret",
                        "type": "kubernetes.io/tls",
                        "metadata": {"name": "webhook-tls", "namespace": namespace},
                        "stringData": {"tls.crt": crt, "tls.key": key},
                    },
                    {
                        "apiVersion": "v1",
                        "kind": "ConfigMap",
                        "metadata": {"name": "webhook", "namespace": namespace},
                        "data": {"webhook.py": WEBHOOK.read_text()},
                    },
                    {
                        "apiVersion": "v1",
                        "kind": "Pod",
                        "metadata": {
                            "name": "webhook",
                            "namespace": namespace,
                            "labels": {"app": "webhook"},
                        },
                        "spec": {
                            "nodeName": workers[0],
                            "containers": [
                                {
                                    "name": "webhook",
                                    "image": "podplane/kube-proxy:dev",
                                    "imagePullPolicy": "IfNotPresent",
                                    "command": ["python", "/app/webhook.py"],
                                    "ports": [{"name": "https", "containerPort": 8443}],
                                    "readinessProbe": {
                                        "tcpSocket": {"port": 8443},
                                        "periodSeconds": 1,
                                    },
                                    "volumeMounts": [
                                        {"name": "tls", "mountPath": "/tls"},
                                        {"name": "app", "mountPath": "/app"},
                                    ],
                                }
                            ],
                            "volumes": [
                                {"name": "tls", "secret": {"secretName": "webhook-tls"}},
                                {"name": "app", "configMap": {"name": "webhook"}},
                            ],
                        },
                    },
                    {
                        "apiVersion": "v1",
                        "kind": "Service",
                        "metadata": {"name": "webhook", "namespace": namespace},
                        "spec": {
                            "selector": {"app": "webhook"},
                            "ports": [{"name": "https", "port": 443, "targetPort": "https"}],
                        },
                    },
                ],
            }
        )
        wait_pod_ready(namespace, "webhook")
        _apply(
            {
                "apiVersion": "admissionregistration.k8s.io/v1",
                "kind": "ValidatingWebhookConfiguration",
                "metadata": {"name": configuration},
                "webhooks": [
                    {
                        "name": "validate.example.podplane.io",
                        "clientConfig": {
                            "service": {
                                "namespace": namespace,
                                "name": "webhook",
                                "path": "/validate",
                            },
                            "caBundle": base64.b64encode(ca_pem).decode(),
                        },
                        "rules": [
                            {
                                "apiGroups": [""],
                                "apiVersions": ["v1"],
                                "operations": ["CREATE"],
                                "resources": ["pods"],
                            }
                        ],
                        "namespaceSelector": {
                            "matchLabels": {"kubernetes.io/metadata.name": namespace}
                        },
                        "objectSelector": {
                            "matchExpressions": [
                                {"key": "example.podplane.io/deny", "operator": "Exists"}
                            ]
                        },
                        "admissionReviewVersions": ["v1"],
                        "sideEffects": "None",
                        "failurePolicy": "Fail",
                    }
                ],
            }
        )
        expected = (
            'Error from server: error when creating "STDIN": admission webhook '
            '"validate.example.podplane.io" denied the request: pods labelled '
            "example.podplane.io/deny are not allowed: testing"
        )
        # Until every apiserver's caches have the configuration: three refusals in a row.
        refusals, attempts = 0, 0
        while refusals < 3:
            attempts += 1
            assert attempts < 100, "the webhook is not called by every apiserver"
            denied = kubectl(
                "create", "-n", namespace, "--dry-run=server", "-f", "-", check=False,
                input_text=_pod("denied", {"example.podplane.io/deny": "testing"}),
            )  # fmt: skip
            refusals = refusals + 1 if denied.returncode else 0
        for i in range(6):
            denied = kubectl(
                "create", "-n", namespace, "-f", "-", check=False,
                input_text=_pod(f"denied-{i}", {"example.podplane.io/deny": "testing"}),
            )  # fmt: skip
            assert (denied.returncode, denied.stderr.strip()) == (1, expected)
        admitted = kubectl(
            "create", "-n", namespace, "-f", "-", input_text=_pod("admitted", {"app": "x"})
        )
        assert admitted.stdout == "pod/admitted created\n"
    finally:
        kubectl("delete", "validatingwebhookconfiguration", configuration, check=False)
        kubectl("delete", "namespace", namespace, "--wait=false", check=False)
