"""A pod sandbox's resolv.conf on the real Docker engine: what the kubelet's DNS configuration
asks for is what the sandbox (and every container joined to it) reads, on the pod network and on
the host's network (where Docker refuses DNS options and the file is written over)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from kubelet.runtime.docker.runtime import DockerRuntime
from kubelet.runtime.types import DNSConfig, PodRef, SandboxConfig
from tests.integration.pod_images import PAUSE

DNS = DNSConfig(
    ("10.96.0.10",),
    ("shop.svc.cluster.local", "svc.cluster.local", "cluster.local"),
    ("ndots:5",),
)


@pytest.mark.parametrize("host_network", [False, True])
async def test_sandbox_resolv_conf_is_the_pods(
    docker_runtime: DockerRuntime, pod_namespace: str, host_network: bool
) -> None:
    pod = PodRef(uuid.uuid4().hex, f"dns-{int(host_network)}", pod_namespace)
    sandbox = await docker_runtime.run_pod_sandbox(
        SandboxConfig(
            pod=pod, attempt=0, hostname=pod.name, image=PAUSE, host_network=host_network, dns=DNS
        )
    )
    data = await docker_runtime._call(docker_runtime._api.inspect_container, sandbox)
    lines = Path(data["ResolvConfPath"]).read_text().splitlines()
    got = {w[0]: w[1:] for w in (line.split() for line in lines) if w and w[0] != "#"}
    assert got == {
        "nameserver": ["10.96.0.10"],
        "search": ["shop.svc.cluster.local", "svc.cluster.local", "cluster.local"],
        "options": ["ndots:5"],
    }
