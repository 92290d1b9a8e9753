"""Helpers for the kubelet's integration tests on the real Docker engine of the test host
(DOCKER_HOST, default unix:///var/run/docker.sock): a whole kubelet for a fresh node, its pod
syncs counted, pods from a spec, and the removal of every container of a test's pods (they carry
its pod namespace as a label). The fixtures built on them (docker_runtime, pod_namespace,
kubelet) are in conftest.py."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator
from typing import Any

from apiserver.server import APIServer
from kubelet.config import KubeletConfig
from kubelet.kubelet import Kubelet
from kubelet.runtime.docker import labels
from kubelet.runtime.docker.runtime import DockerRuntime
from kubelet.runtime.docker.sdk import errors, sdk
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import manifest
from podplane.client.clientset import Client
from tests.integration.controller_support import Passes

DOCKER_HOST = os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"


def pod_syncs(kubelet: Kubelet) -> Passes:
    """The passes of the kubelet's pod workers over each pod key (its PodSyncer's syncs, each of
    which writes the pod's status): `resync(key)` waits for one that began after the call."""
    passes = Passes(kubelet.workers.enqueue)
    # The workers call it as sync(key, pod): wrapped where they find it.
    kubelet.syncer.sync = passes.counted(kubelet.syncer.sync)  # type: ignore[method-assign,assignment]
    return passes


def remove_labelled(namespace: str) -> list[str]:
    """Force-removes every container of pods in the namespace; returns their names."""
    return _remove_with_label(f"{labels.POD_NAMESPACE}={namespace}")


def remove_node_containers(node: str) -> list[str]:
    """Force-removes every container a runtime labelled with the node's name made (pods of any
    namespace, sandboxes included); returns their names."""
    return _remove_with_label(f"{labels.NODE_NAME}={node}")


def _remove_with_label(label: str) -> list[str]:
    api = sdk.APIClient(base_url=DOCKER_HOST, version="auto")
    try:
        found = api.containers(all=True, filters={"label": [label]})
        for c in found:
            try:
                api.remove_container(c["Id"], force=True, v=True)
            except errors.NotFound:
                pass  # the kubelet removed it meanwhile
            except errors.APIError as e:
                # The kubelet is removing it right now: it goes either way.
                if not (e.status_code == 409 and "in progress" in str(e.explanation)):
                    raise
        return [c["Names"][0] for c in found]
    finally:
        api.close()


@contextlib.asynccontextmanager
async def running_kubelet(
    apiserver: APIServer,
    client: Client,
    runtime: DockerRuntime,
    root_dir: str,
    *,
    node_name: str = "",
    admin: Client | None = None,
    **config: Any,
) -> AsyncIterator[Kubelet]:
    """A whole kubelet for a fresh node on the test host's engine, against the real apiserver;
    `config` overrides KubeletConfig fields. Its Node (by default it-<random>) is deleted
    afterwards, by `admin` when the kubelet's own client may not (a node's credentials)."""
    node_name = node_name or f"it-{uuid.uuid4().hex[:8]}"
    settings: dict[str, Any] = {
        "pod_cidr": "10.244.9.0/24",
        "port": 0,
        "grpc_port": 0,
        "node_status_update_frequency": 1.0,
        **config,
    }
    kubelet = Kubelet(
        KubeletConfig(
            server=f"127.0.0.1:{apiserver.port}",
            node_name=node_name,
            root_dir=root_dir,
            docker_host=DOCKER_HOST,
            **settings,
        ),
        runtime,
        client,
        host_ip="127.0.0.1",
        listen_host="127.0.0.1",
    )
    await kubelet.start()
    try:
        yield kubelet
    finally:
        await kubelet.stop()
        # The Node's CSINode too: no garbage collector runs here, and the worker's etcd is shared.
        with contextlib.suppress(Exception):
            await (admin or client).csinodes.delete(node_name)
        await (admin or client).nodes.delete(node_name)


def make_pod(namespace: str, name: str, spec: dict[str, object]) -> core_pb2.Pod:
    """A pod of the spec with a fresh uid, for a PodSyncer driven directly (no apiserver)."""
    pod = manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"terminationGracePeriodSeconds": 1, **spec},
        }
    )
    assert isinstance(pod, core_pb2.Pod)
    pod.metadata.uid = str(uuid.uuid4())
    return pod
