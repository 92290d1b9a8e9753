"""Port-forward over WebSockets on the compose cluster: `kubectl port-forward svc/NAME` and
`deploy/NAME` with KUBECTL_PORT_FORWARD_WEBSOCKETS=true (SPDY/3.1 tunnelled in a WebSocket), and
the plain WebSocket protocol other clients speak (a WebSocket per connection, `?ports=`, channels
per port, each opened with its port): aiohttp's ws_connect as @kubernetes/client-node calls it,
and the official Python client's portforward. The module's namespace holds one web server
deployment behind a service."""

from __future__ import annotations

import asyncio
import re
import ssl
import subprocess
import urllib.request

import aiohttp
import pytest
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.stream import portforward

from tests.e2e.kubectl import KUBECONFIG, Kubectl, Lines

WEB = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: pfweb
spec:
  replicas: 1
  selector:
    matchLabels: {app: pfweb}
  template:
    metadata:
      labels: {app: pfweb}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: web
        image: busybox
        command: ["sh", "-c", "mkdir -p /www && echo hello from $(hostname) > /www/index.html && exec httpd -f -p 80 -h /www"]
        ports:
        - containerPort: 80
        readinessProbe:
          tcpSocket: {port: 80}
          periodSeconds: 1
---
apiVersion: v1
kind: Service
metadata:
  name: pfweb
spec:
  selector: {app: pfweb}
  ports:
  - port: 8080
    targetPort: 80
"""  # noqa: E501 - the container's command, as a user writes it
TUNNEL = {"KUBECTL_PORT_FORWARD_WEBSOCKETS": "true"}
ANSWER = rb"hello from pfweb-[a-z0-9]+-[a-z0-9]+\n"
GET = b"GET / HTTP/1.0\r\n\r\n"
# @kubernetes/client-node's WebSocketHandler offers these, best first.
CLIENT_NODE_PROTOCOLS = (
    "v5.channel.k8s.io",
    "v4.channel.k8s.io",
    "v3.channel.k8s.io",
    "v2.channel.k8s.io",
    "channel.k8s.io",
)


@pytest.fixture(scope="module")
def k(kubectl_namespace: str) -> Kubectl:
    return Kubectl(kubectl_namespace)


@pytest.fixture(scope="module")
def pod(k: Kubectl) -> str:
    """The deployment's one pod, ready; its name."""
    k.ok("apply", "-f", "-", stdin=WEB)
    rolled = k.run("rollout", "status", "deployment/pfweb", "--timeout=120s")
    assert rolled.code == 0, rolled
    name = k.ok("get", "pods", "-l", "app=pfweb", "-o", "jsonpath={.items[0].metadata.name}")
    assert re.fullmatch(r"pfweb-[a-z0-9]+-[a-z0-9]+", name), name
    return name


def forwarded_get(k: Kubectl, target: str, remote: int, pod_port: int) -> list[bytes]:
    """kubectl port-forward TARGET :REMOTE over its WebSocket tunnel (kubectl names the pod's
    port it forwards to, POD_PORT); two GETs through it."""
    forward = Lines(
        subprocess.Popen(
            k.argv(("port-forward", target, f":{remote}", "--address", "127.0.0.1")),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**k.env, **TUNNEL},
        )
    )
    try:
        (line,) = forward.until(rf"^Forwarding from 127\.0\.0\.1:\d+ -> {pod_port}$")
        port = int(line.split(":")[1].split()[0])
        answers = []
        for _ in range(2):  # a connection each, over the one forwarding session
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30) as answer:
                answers.append(answer.read())
        return answers
    finally:
        forward.stop()


def test_kubectl_port_forward_to_a_service_over_websockets(k: Kubectl, pod: str) -> None:
    # The service's port 8080 is its pods' port 80: kubectl forwards to the pod's.
    answers = forwarded_get(k, "svc/pfweb", 8080, 80)
    assert answers == [f"hello from {pod}\n".encode()] * 2


def test_kubectl_port_forward_to_a_deployment_over_websockets(k: Kubectl, pod: str) -> None:
    answers = forwarded_get(k, "deploy/pfweb", 80, 80)
    assert answers == [f"hello from {pod}\n".encode()] * 2


def admin_configuration() -> k8s.Configuration:
    """build/kubeconfig's admin, as any program loads it (its certificates in files)."""
    configuration = k8s.Configuration()
    k8s_config.load_kube_config(  # type: ignore[no-untyped-call]
        config_file=str(KUBECONFIG), client_configuration=configuration
    )
    return configuration


def admin_tls(configuration: k8s.Configuration) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=configuration.ssl_ca_cert)
    assert configuration.cert_file and configuration.key_file
    context.load_cert_chain(configuration.cert_file, configuration.key_file)
    return context


async def test_a_plain_websocket_client_as_client_node_speaks_it(
    kubectl_namespace: str, pod: str
) -> None:
    configuration = admin_configuration()
    url = (
        f"{configuration.host}/api/v1/namespaces/{kubectl_namespace}/pods/{pod}/portforward"
        "?ports=80"
    )
    seen: dict[int, list[bytes]] = {}
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(
            url, protocols=CLIENT_NODE_PROTOCOLS, ssl=admin_tls(configuration)
        ) as ws:
            assert ws.protocol == "v4.channel.k8s.io"
            await ws.send_bytes(b"\x00" + GET)
            async with asyncio.timeout(60):
                async for message in ws:
                    assert message.type == aiohttp.WSMsgType.BINARY, message
                    seen.setdefault(message.data[0], []).append(message.data[1:])
    # The port (80, little-endian) first on both channels; the answer on the data channel.
    assert seen[1] == [b"\x50\x00"]
    assert seen[0][0] == b"\x50\x00"
    answer = b"".join(seen[0][1:])
    assert answer.startswith(b"HTTP/1.") and answer.endswith(f"hello from {pod}\n".encode())


def official_client_get(namespace: str, pod: str) -> bytes:
    with k8s.ApiClient(admin_configuration()) as api_client:
        api = k8s.CoreV1Api(api_client)
        forward = portforward(
            api.connect_get_namespaced_pod_portforward, pod, namespace, ports="80"
        )
        sock = forward.socket(80)
        sock.settimeout(60)
        sock.sendall(GET)
        answer = b""
        while data := sock.recv(65536):
            answer += data
        assert forward.error(80) is None
        forward.close()
    return answer


async def test_the_official_python_clients_portforward(kubectl_namespace: str, pod: str) -> None:
    answer = await asyncio.to_thread(official_client_get, kubectl_namespace, pod)
    assert re.search(ANSWER + rb"$", answer), answer
