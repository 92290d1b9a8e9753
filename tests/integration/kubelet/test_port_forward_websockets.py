"""Port-forward, exec and attach over WebSockets through the real apiserver's REST door to a real
kubelet on the test host's containerd, as clients other than kubectl speak them: a plain
WebSocket port-forward (aiohttp's ws_connect with @kubernetes/client-node's subprotocols and its
`ports` parameter) to two busybox web servers at once, to a port nothing listens on (the kubelet's
error on the port's error channel), in base64, and its refusals; the official Python client's
portforward; @kubernetes/client-node's PortForward (Node.js); `kubectl port-forward` to a pod and
to a service over its SPDY tunnel still; exec over v4.channel.k8s.io and v5.channel.k8s.io's
close of stdin; and the kubelet's own /portForward WebSocket, called directly."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import urllib.request
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from kubernetes import client as k8s
from kubernetes.stream import portforward

from apiserver.server import APIServer
from kubelet.config import KubeletConfig
from kubelet.kubelet import Kubelet
from kubelet.runtime.cri.runtime import CriRuntime
from podplane.api.core.v1 import core_pb2, service_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import manifest
from podplane.client.clientset import Client
from tests import tools
from tests.integration import client_node
from tests.kubeconfig import write_kubeconfig
from tests.support import eventually

# @kubernetes/client-node's WebSocketHandler offers these, best first.
CLIENT_NODE_PROTOCOLS = (
    "v5.channel.k8s.io",
    "v4.channel.k8s.io",
    "v3.channel.k8s.io",
    "v2.channel.k8s.io",
    "channel.k8s.io",
)
WEB = (
    "mkdir -p /www80 /www8080 && echo hello-from-80 > /www80/index.html && "
    "echo hello-from-8080 > /www8080/index.html && httpd -p 8080 -h /www8080 && "
    "exec httpd -f -p 80 -h /www80"
)
GET = b"GET / HTTP/1.0\r\n\r\n"


@dataclass
class Node:
    kubelet: Kubelet
    runtime: CriRuntime


@pytest_asyncio.fixture(scope="module")
async def node(
    apiserver: APIServer,
    client: Client,
    cri_endpoint: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Node]:
    """A kubelet for a fresh node on containerd, against the session's apiserver."""
    name = f"it-pfws-{uuid.uuid4().hex[:6]}"
    root = tmp_path_factory.mktemp("kubelet-pfws")
    runtime = await CriRuntime.connect(cri_endpoint, name, str(root / "pods"))
    kubelet = Kubelet(
        KubeletConfig(
            server=f"127.0.0.1:{apiserver.port}",
            node_name=name,
            pod_cidr="10.244.9.0/24",
            port=0,
            grpc_port=0,
            root_dir=str(root),
            pod_logs_dir=str(root / "pods"),
            node_status_update_frequency=1.0,
            container_runtime_endpoint=cri_endpoint,
        ),
        runtime,
        client,
        host_ip="127.0.0.1",
        listen_host="127.0.0.1",
    )
    await kubelet.start()
    try:
        yield Node(kubelet, runtime)
    finally:
        await kubelet.stop()
        for sandbox in await runtime.list_pod_sandboxes():
            await runtime.stop_pod_sandbox(sandbox.id, 0)
            await runtime.remove_pod_sandbox(sandbox.id)
        await client.nodes.delete(name)
        runtime.close()


@pytest_asyncio.fixture(scope="module")
async def web_pod(client: Client, node: Node) -> AsyncIterator[core_pb2.Pod]:
    """Two web servers (80 and 8080) and a shell, running and ready."""
    namespace = f"pfws-{uuid.uuid4().hex[:6]}"
    await client.namespaces.create(core_pb2.Namespace(metadata=meta_pb2.ObjectMeta(name=namespace)))
    busybox = {"image": "busybox:latest", "imagePullPolicy": "IfNotPresent"}
    pod = manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "web", "namespace": namespace, "labels": {"app": "web"}},
            "spec": {
                "nodeName": node.kubelet.config.node_name,
                "terminationGracePeriodSeconds": 0,
                "containers": [
                    {
                        "name": "web",
                        **busybox,
                        "command": ["sh", "-c", WEB],
                        "readinessProbe": {"tcpSocket": {"port": 8080}, "periodSeconds": 1},
                    },
                    {"name": "shell", **busybox, "command": ["sleep", "3600"]},
                ],
            },
        }
    )
    assert isinstance(pod, core_pb2.Pod)
    await client.pods.create(pod)
    # Its port 80 as the service's 9090, for `kubectl port-forward svc/web`.
    service = manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "web", "namespace": namespace},
            "spec": {"selector": {"app": "web"}, "ports": [{"port": 9090, "targetPort": 80}]},
        }
    )
    assert isinstance(service, service_pb2.Service)
    await client.services.create(service)

    async def ready() -> core_pb2.Pod | None:
        p = await client.pods.get("web", namespace)
        statuses = p.status.container_statuses
        return p if len(statuses) == 2 and all(s.ready for s in statuses) else None

    yield await eventually(ready, timeout=90, what="pod web ready")
    await client.pods.delete("web", namespace)


def url(apiserver: APIServer, pod: core_pb2.Pod, subresource: str, query: str) -> str:
    return (
        f"http://127.0.0.1:{apiserver.rest_port}/api/v1/namespaces/{pod.metadata.namespace}"
        f"/pods/{pod.metadata.name}/{subresource}?{query}"
    )


async def channels_until_closed(
    ws: aiohttp.ClientWebSocketResponse, base64_text: bool = False
) -> dict[int, list[bytes]]:
    """Every message by channel, until the server closes the WebSocket (30 s at most)."""
    seen: dict[int, list[bytes]] = {}
    async with asyncio.timeout(30):
        async for message in ws:
            if message.type == aiohttp.WSMsgType.BINARY:
                channel, data = message.data[0], message.data[1:]
            else:
                assert base64_text and message.type == aiohttp.WSMsgType.TEXT, message
                channel, data = ord(message.data[0]) - ord("0"), base64.b64decode(message.data[1:])
            seen.setdefault(channel, []).append(data)
    return seen


async def test_two_ports_at_once_over_client_nodes_websocket(
    apiserver: APIServer, web_pod: core_pb2.Pod
) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(
            url(apiserver, web_pod, "portforward", "ports=80&ports=8080"),
            protocols=CLIENT_NODE_PROTOCOLS,
        ) as ws:
            assert ws.protocol == "v4.channel.k8s.io"
            await ws.send_bytes(b"\x00" + GET)
            await ws.send_bytes(b"\x02" + GET)
            seen = await channels_until_closed(ws)
    # The port first on each channel; then each server's answer on its data channel alone.
    assert seen[1] == [b"\x50\x00"] and seen[3] == [b"\x90\x1f"]
    assert seen[0][0] == b"\x50\x00" and seen[2][0] == b"\x90\x1f"
    answer_80, answer_8080 = b"".join(seen[0][1:]), b"".join(seen[2][1:])
    assert answer_80.startswith(b"HTTP/1.") and answer_80.endswith(b"\r\n\r\nhello-from-80\n")
    assert answer_8080.startswith(b"HTTP/1.") and answer_8080.endswith(b"hello-from-8080\n")


def official_client_get(rest_port: int | None, namespace: str) -> dict[int, bytes]:
    """The official Python client's portforward (its v4.channel.k8s.io WebSocket, blocking):
    a GET on each of ports 80 and 8080, each answer read to its end."""
    configuration = k8s.Configuration()
    configuration.host = f"http://127.0.0.1:{rest_port}"
    with k8s.ApiClient(configuration) as api_client:
        api = k8s.CoreV1Api(api_client)
        forward = portforward(
            api.connect_get_namespaced_pod_portforward, "web", namespace, ports="80,8080"
        )
        answers = {}
        for port in (80, 8080):
            forward.socket(port).sendall(GET)
        for port in (80, 8080):
            sock = forward.socket(port)
            sock.settimeout(30)
            answer = b""
            while data := sock.recv(65536):
                answer += data
            answers[port] = answer
            assert forward.error(port) is None
        forward.close()
    return answers


async def test_the_official_python_clients_portforward(
    apiserver: APIServer, web_pod: core_pb2.Pod
) -> None:
    answers = await asyncio.to_thread(
        official_client_get, apiserver.rest_port, web_pod.metadata.namespace
    )
    assert answers[80].startswith(b"HTTP/1.") and answers[80].endswith(b"hello-from-80\n")
    assert answers[8080].endswith(b"hello-from-8080\n")


async def client_node_port_forward(
    apiserver: APIServer, pod: core_pb2.Pod, port: int, home: Path
) -> tuple[int, bytes, bytes]:
    """tests/integration/clients/client_node/port_forward.mjs: @kubernetes/client-node's
    PortForward sends a GET to the pod's port; (its exit code, the answer, the error channel)."""
    # client-node refuses plain HTTP unless told to skip TLS verification
    server = f"http://127.0.0.1:{apiserver.rest_port}"
    config = write_kubeconfig(home / "kubeconfig", server, insecure=True)
    entry = await asyncio.to_thread(client_node.module)
    proc = await asyncio.create_subprocess_exec(
        client_node.node(), str(client_node.SCRIPTS / "port_forward.mjs"),
        pod.metadata.namespace, pod.metadata.name, str(port), GET.decode(),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={"PATH": os.environ.get("PATH", ""), "HOME": str(home), "KUBECONFIG": str(config),
             "CLIENT_NODE_MODULE": entry},
    )  # fmt: skip
    async with asyncio.timeout(60):
        out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out, err


async def test_client_nodes_port_forward(
    apiserver: APIServer, web_pod: core_pb2.Pod, tmp_path: Path
) -> None:
    code, out, err = await client_node_port_forward(apiserver, web_pod, 8080, tmp_path)
    assert code == 0, err
    assert out.startswith(b"HTTP/1.") and out.endswith(b"\r\n\r\nhello-from-8080\n"), out
    assert err == b""


async def test_client_nodes_port_forward_to_a_closed_port_prints_the_kubelets_error(
    apiserver: APIServer, web_pod: core_pb2.Pod, node: Node, tmp_path: Path
) -> None:
    code, out, err = await client_node_port_forward(apiserver, web_pod, 81, tmp_path)
    [sandbox] = await node.runtime.list_pod_sandboxes(web_pod.metadata.uid)
    assert (code, out) == (0, b""), err
    assert err.decode().startswith(
        f"error forwarding port 81 to pod {sandbox.id}, uid : failed to connect to localhost:81"
    ), err


async def test_a_closed_port_gets_the_kubelets_error_on_its_error_channel(
    apiserver: APIServer, web_pod: core_pb2.Pod, node: Node
) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(
            url(apiserver, web_pod, "portforward", "ports=81"),
            protocols=("portforward.k8s.io", "v4.channel.k8s.io"),
        ) as ws:
            assert ws.protocol == "v4.channel.k8s.io"
            seen = await channels_until_closed(ws)
    [sandbox] = await node.runtime.list_pod_sandboxes(web_pod.metadata.uid)
    assert seen[0] == [b"\x51\x00"]
    assert seen[1][0] == b"\x51\x00" and len(seen[1]) == 2
    assert seen[1][1].decode() == (
        f"error forwarding port 81 to pod {sandbox.id}, uid : failed to connect to "
        f'localhost:81 inside namespace "{sandbox.id}", IPv4: dial tcp4 127.0.0.1:81: '
        "connect: connection refused IPv6 dial tcp6 [::1]:81: connect: connection refused"
    )


async def test_base64_text_messages_and_comma_separated_ports(
    apiserver: APIServer, web_pod: core_pb2.Pod
) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(
            url(apiserver, web_pod, "portforward", "ports=8080,80"),
            protocols=("v4.base64.channel.k8s.io",),
        ) as ws:
            assert ws.protocol == "v4.base64.channel.k8s.io"
            await ws.send_str("0" + base64.b64encode(GET).decode())
            await ws.send_str("2" + base64.b64encode(GET).decode())
            seen = await channels_until_closed(ws, base64_text=True)
    assert b"".join(seen[0]).endswith(b"hello-from-8080\n")
    assert b"".join(seen[2]).endswith(b"hello-from-80\n")


@pytest.mark.parametrize(
    ("query", "protocols", "status", "body"),
    [
        # The kubelet's answers (kube-apiserver proxies the upgrade to it).
        ("", CLIENT_NODE_PROTOCOLS, 400, 'query parameter "port" is required'),
        ("ports=0", CLIENT_NODE_PROTOCOLS, 400, 'port "0" must be > 0'),
        ("ports=80", ("portforward.k8s.io",), 403, ""),
    ],
)
async def test_the_kubelets_refusals(
    apiserver: APIServer,
    web_pod: core_pb2.Pod,
    query: str,
    protocols: tuple[str, ...],
    status: int,
    body: str,
) -> None:
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await session.ws_connect(
                url(apiserver, web_pod, "portforward", query), protocols=protocols
            )
    assert refused.value.status == status
    async with aiohttp.ClientSession() as session:  # the body, as a plain GET upgrade shows it
        async with session.get(
            url(apiserver, web_pod, "portforward", query),
            headers={
                "Connection": "Upgrade",
                "Upgrade": "websocket",
                "Sec-WebSocket-Version": "13",
                "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode(),
                "Sec-WebSocket-Protocol": ", ".join(protocols),
            },
        ) as response:
            assert (response.status, await response.text()) == (status, body)


async def test_a_port_that_is_no_number_is_the_apiservers_bad_request(
    apiserver: APIServer, web_pod: core_pb2.Pod
) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(
            url(apiserver, web_pod, "portforward", "ports=http"),
            headers={"Connection": "Upgrade", "Upgrade": "websocket"},
        ) as response:
            status = await response.json()
    assert (response.status, status["reason"], status["message"]) == (
        400,
        "BadRequest",
        'cannot convert to []int32: strconv.ParseUint: parsing "http": invalid syntax',
    )


@pytest.mark.parametrize(
    ("target", "ports", "pod_port", "answer"),
    [
        ("pod/web", "0:8080", 8080, b"hello-from-8080\n"),
        # kubectl finds the service's pod and forwards to the target port, which it names.
        ("svc/web", "0:9090", 80, b"hello-from-80\n"),
    ],
)
async def test_kubectl_port_forward_over_its_websocket_tunnel(
    apiserver: APIServer,
    web_pod: core_pb2.Pod,
    tmp_path: Path,
    target: str,
    ports: str,
    pod_port: int,
    answer: bytes,
) -> None:
    config = tmp_path / "kubeconfig"
    config.write_text(f"""apiVersion: v1
kind: Config
clusters: [{{name: t, cluster: {{server: "http://127.0.0.1:{apiserver.rest_port}"}}}}]
users: [{{name: u, user: {{}}}}]
contexts: [{{name: c, context: {{cluster: t, user: u, namespace: {web_pod.metadata.namespace}}}}}]
current-context: c
""")
    proc = await asyncio.create_subprocess_exec(
        tools.kubectl(), "port-forward", target, ports, "--address", "127.0.0.1",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={
            "PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "KUBECONFIG": str(config),
            "KUBECTL_PORT_FORWARD_WEBSOCKETS": "true",
        },
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        async with asyncio.timeout(30):
            line = await proc.stdout.readline()
        match = re.match(rb"Forwarding from 127\.0\.0\.1:(\d+) -> %d\n" % pod_port, line)
        assert match, line

        def get() -> bytes:
            with urllib.request.urlopen(f"http://127.0.0.1:{int(match[1])}/", timeout=30) as r:
                return bytes(r.read())

        for _ in range(2):
            assert await asyncio.to_thread(get) == answer
    finally:
        proc.terminate()
        await proc.wait()


async def test_exec_over_v4_ends_with_the_exit_code_in_its_status(
    apiserver: APIServer, web_pod: core_pb2.Pod
) -> None:
    query = "container=shell&stdout=1&stderr=1&command=sh&command=-c&command=echo+hi%3B+exit+3"
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(
            url(apiserver, web_pod, "exec", query), protocols=("v4.channel.k8s.io",)
        ) as ws:
            assert ws.protocol == "v4.channel.k8s.io"
            seen = await channels_until_closed(ws)
    assert seen[1] == [b"", b"hi\n"]
    [status] = seen[3]
    assert json.loads(status) == {
        "metadata": {},
        "status": "Failure",
        "message": "command terminated with non-zero exit code: command terminated with "
        "exit code 3",
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": "3"}]},
    }


async def test_v5s_close_message_ends_stdin(apiserver: APIServer, web_pod: core_pb2.Pod) -> None:
    query = "container=shell&stdin=1&stdout=1&command=sh&command=-c&command=cat%3B+echo+end"
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(
            url(apiserver, web_pod, "exec", query), protocols=CLIENT_NODE_PROTOCOLS
        ) as ws:
            assert ws.protocol == "v5.channel.k8s.io"
            await ws.send_bytes(b"\x00one\n")
            await ws.send_bytes(b"\xff\x00")  # the client's stdin has ended
            seen = await channels_until_closed(ws)
    assert b"".join(seen[1]) == b"one\nend\n"
    assert [json.loads(s) for s in seen[3]] == [{"metadata": {}, "status": "Success"}]


async def exec_status(
    apiserver: APIServer, pod: core_pb2.Pod, container: str, protocol: str
) -> dict[str, Any]:
    """The final Status of an exec of /no/such/file in `container` over `protocol`."""
    query = f"container={container}&stdout=1&command=/no/such/file"
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(
            url(apiserver, pod, "exec", query), protocols=(protocol,)
        ) as ws:
            seen = await channels_until_closed(ws)
    [status] = seen[3]
    decoded: dict[str, Any] = json.loads(status)
    return decoded


@pytest.mark.parametrize(
    ("protocol", "prefix"),
    [
        ("v4.channel.k8s.io", "Internal error occurred: "),
        # The translator wraps the kubelet's InternalError once more.
        ("v5.channel.k8s.io", "Internal error occurred: Internal error occurred: "),
    ],
)
async def test_an_exec_that_cannot_start_is_an_internal_error(
    apiserver: APIServer, web_pod: core_pb2.Pod, protocol: str, prefix: str
) -> None:
    status = await exec_status(apiserver, web_pod, "shell", protocol)
    assert (status["reason"], status["code"]) == ("InternalError", 500)
    assert status["message"].startswith(prefix + "error executing command in container: "), status


# ------------------------------------------------------------------ the kubelet's own
# /portForward/<namespace>/<pod> (plain HTTP here: a kubelet without a serving certificate).
def kubelet_url(node: Node, pod: core_pb2.Pod, query: str, uid: str = "") -> str:
    path = f"/portForward/{pod.metadata.namespace}/{pod.metadata.name}" + (f"/{uid}" if uid else "")
    return f"http://127.0.0.1:{node.kubelet.port}{path}?{query}"


async def test_the_kubelets_port_forward_serves_two_ports(
    node: Node, web_pod: core_pb2.Pod
) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(
            kubelet_url(node, web_pod, "port=80&port=8080", uid=web_pod.metadata.uid),
            protocols=CLIENT_NODE_PROTOCOLS,
        ) as ws:
            assert ws.protocol == "v4.channel.k8s.io"
            await ws.send_bytes(b"\x00" + GET)
            await ws.send_bytes(b"\x02" + GET)
            seen = await channels_until_closed(ws)
    assert seen[1] == [b"\x50\x00"] and seen[3] == [b"\x90\x1f"]
    assert b"".join(seen[0][1:]).endswith(b"\r\n\r\nhello-from-80\n")
    assert b"".join(seen[2][1:]).endswith(b"\r\n\r\nhello-from-8080\n")


async def test_the_kubelets_port_forward_reports_a_closed_port(
    node: Node, web_pod: core_pb2.Pod
) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(
            kubelet_url(node, web_pod, "port=81"), protocols=("v4.channel.k8s.io",)
        ) as ws:
            seen = await channels_until_closed(ws)
    [sandbox] = await node.runtime.list_pod_sandboxes(web_pod.metadata.uid)
    assert (
        seen[1][1]
        .decode()
        .startswith(
            f"error forwarding port 81 to pod {sandbox.id}, uid : failed to connect to localhost:81"
        )
    )


async def test_the_kubelets_port_forward_refusals(node: Node, web_pod: core_pb2.Pod) -> None:
    other = core_pb2.Pod()
    other.CopyFrom(web_pod)
    other.metadata.name = "absent"
    cases = [
        (kubelet_url(node, web_pod, ""), CLIENT_NODE_PROTOCOLS),
        (kubelet_url(node, web_pod, "port=x"), CLIENT_NODE_PROTOCOLS),
        (kubelet_url(node, other, "port=80"), CLIENT_NODE_PROTOCOLS),
        (kubelet_url(node, web_pod, "port=80", uid="0000"), CLIENT_NODE_PROTOCOLS),
        (kubelet_url(node, web_pod, "port=80"), ("portforward.k8s.io",)),
    ]
    answers = []
    async with aiohttp.ClientSession() as session:
        for target, protocols in cases:
            async with session.get(
                target,
                headers={
                    "Connection": "Upgrade",
                    "Upgrade": "websocket",
                    "Sec-WebSocket-Version": "13",
                    "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode(),
                    "Sec-WebSocket-Protocol": ", ".join(protocols),
                },
            ) as response:
                answers.append((response.status, await response.text()))
    assert answers == [
        (400, 'query parameter "port" is required'),
        (400, 'unable to parse "x" as a port: strconv.ParseUint: parsing "x": invalid syntax'),
        (404, "pod does not exist"),
        (404, "pod not found"),
        (403, ""),
    ]
