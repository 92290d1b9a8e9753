"""The REST door's integration fixture: the real apiserver over real etcd serving both doors with
TLS from a test PKI (podplane.componentbase.pki's layout), a kubeconfig for it (the cluster CA,
https://127.0.0.1:<rest port>, the admin's client certificate; a viewer context with the viewer's
bearer token), and the real clients: kubectl (a subprocess, its discovery cached per session),
the official `kubernetes` package (blocking calls, run in a thread so the apiserver on the event
loop keeps serving) and podplane's gRPC client."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes import watch as k8s_watch

from apiserver.options.component_status import ComponentStatusOptions
from apiserver.server import APIServer
from podplane.client.clientset import Client
from tests import tools
from tests.integration.control_plane import TEST_DISABLED_ADMISSION_PLUGINS
from tests.pki_support import aggregator_options, cert_credentials, make_pki, secure_serving
from tests.support import EtcdProcess, eventually, free_port

T = TypeVar("T")


@dataclass(frozen=True)
class Ran:
    """A finished kubectl: its exit code and what it printed."""

    code: int
    out: str
    err: str

    def lines(self) -> list[str]:
        return self.out.splitlines()


def kubeconfig_text(port: int, pki: Path) -> str:
    viewer_token = (pki / "viewer.token").read_text().strip()
    return f"""apiVersion: v1
kind: Config
clusters:
- name: podplane
  cluster:
    server: https://127.0.0.1:{port}
    certificate-authority: {pki / "ca.crt"}
users:
- name: admin
  user:
    client-certificate: {pki / "admin.crt"}
    client-key: {pki / "admin.key"}
- name: viewer
  user:
    token: {viewer_token}
contexts:
- name: admin
  context: {{cluster: podplane, user: admin}}
- name: viewer
  context: {{cluster: podplane, user: viewer}}
current-context: admin
"""


@dataclass
class RestCluster:
    etcd: EtcdProcess
    folder: Path
    pki: Path
    kubeconfig: Path
    rest_address: str
    server: APIServer
    grpc: Client

    @property
    def rest_port(self) -> int:
        return int(self.rest_address.rpartition(":")[2])

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "KUBECONFIG": str(self.kubeconfig),
            "HOME": str(self.folder),
            "KUBECACHEDIR": str(self.folder / "kube-cache"),
        }

    async def kubectl(
        self, *args: str, stdin: str | None = None, context: str = "admin", timeout: float = 60.0
    ) -> Ran:
        """Runs kubectl to the end (killed after `timeout` seconds, which fails the test)."""
        process = await asyncio.create_subprocess_exec(
            tools.kubectl(),
            f"--context={context}",
            *args,
            env=self.env(),
            stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            async with asyncio.timeout(timeout):
                out, err = await process.communicate(stdin.encode() if stdin is not None else None)
        except TimeoutError:
            process.kill()
            await process.wait()
            raise AssertionError(
                f"kubectl {' '.join(args)} still running after {timeout}s"
            ) from None
        assert process.returncode is not None
        return Ran(process.returncode, out.decode(), err.decode())

    async def kubectl_ok(self, *args: str, stdin: str | None = None, context: str = "admin") -> str:
        ran = await self.kubectl(*args, stdin=stdin, context=context)
        assert ran.code == 0, f"kubectl {' '.join(args)} exited {ran.code}: {ran.err}"
        return ran.out

    async def start_kubectl(self, *args: str) -> asyncio.subprocess.Process:
        """A kubectl left running (get -w, wait): the caller reads and ends it."""
        return await asyncio.create_subprocess_exec(
            tools.kubectl(),
            "--context=admin",
            *args,
            env=self.env(),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )

    async def watching(self, plural: str, namespace: str, timeout: float = 30.0) -> None:
        """Returns once a watch of `plural` in `namespace` is registered with the watch cache (a
        client started a moment ago has listed and is now watching)."""
        cacher: Any = self.server.cachers.get(plural)
        if cacher is None:  # a custom resource's: <plural>.<group>
            cacher = next(
                c.api.reads
                for c in self.server.apis.custom.values()
                if f"{c.resource.plural}.{c.resource.group}" == plural
            )
        await eventually(
            lambda: _true(any(w.namespace == namespace for w in cacher.watchers())),
            timeout=timeout,
            interval=0.05,
            what=f"a watch of {plural} in {namespace}",
        )

    def api_client(self, context: str = "admin") -> k8s.ApiClient:
        """An official-client ApiClient from the kubeconfig, as a user's program makes one."""
        # The package's config loaders are untyped.
        new_client: Any = k8s_config.new_client_from_config
        api: k8s.ApiClient = new_client(config_file=str(self.kubeconfig), context=context)
        return api

    async def restart(self) -> None:
        """Stops the apiserver and starts a new one on the same etcd and ports (its watch cache
        begins afresh at etcd's current revision)."""
        await self.grpc.close()
        await self.server.stop(0)
        self.server = await _start(
            self.etcd,
            self.pki,
            self.rest_address,
            f"127.0.0.1:{self.server.port}",
            self.server.disable_admission_plugins,
        )
        self.grpc = grpc_client(self.server, self.pki)


async def _true(value: bool) -> bool:
    return value


async def in_thread(call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """A blocking client call, off the event loop the apiserver serves on. The official
    client's answers are treated as the untyped data they are (every field of its models is
    optional)."""
    return await asyncio.to_thread(call, *args, **kwargs)


def new_watch() -> Any:
    """A kubernetes.watch.Watch (the package leaves it untyped)."""
    watch: Any = k8s_watch.Watch
    return watch()


def raw_request(
    api: k8s.ApiClient,
    method: str,
    path: str,
    body: Any = None,
    content_type: str = "application/json",
    text: bool = False,
    accept: str = "application/json",
) -> tuple[int, Any]:
    """A request with an official client's connection and credentials but no model around the
    body (the generated methods validate one before sending): the HTTP code and the decoded
    JSON body (the text when it is not JSON, or when `text`)."""
    params = api.param_serialize(
        method,
        path,
        header_params={"Accept": accept, "Content-Type": content_type},
        body=body,
        auth_settings=["BearerToken"],
    )
    response: Any = api.call_api(*params)
    data: bytes = response.read()
    if text:
        return response.status, data.decode()
    try:
        return response.status, json.loads(data)
    except ValueError:
        return response.status, data.decode()


async def _start(
    etcd: EtcdProcess,
    pki: Path,
    rest_address: str,
    address: str = "127.0.0.1:0",
    disable_admission_plugins: frozenset[str] = TEST_DISABLED_ADMISSION_PLUGINS,
    component_status: ComponentStatusOptions | None = None,
) -> APIServer:
    server = APIServer(
        [etcd.endpoint],
        address,
        security=secure_serving(pki),
        rest_address=rest_address,
        disable_admission_plugins=disable_admission_plugins,
        aggregator=aggregator_options(pki),
        component_status=component_status or ComponentStatusOptions(),
    )
    await server.start(etcd_timeout=20)
    return server


def grpc_client(server: APIServer, pki: Path) -> Client:
    return Client(
        f"127.0.0.1:{server.port}", timeout=10, credentials=cert_credentials(pki, "admin")
    )


@contextlib.asynccontextmanager
async def rest_cluster(
    etcd: EtcdProcess,
    folder: Path,
    disable_admission_plugins: frozenset[str] = TEST_DISABLED_ADMISSION_PLUGINS,
    component_status: ComponentStatusOptions | None = None,
) -> AsyncIterator[RestCluster]:
    """An apiserver with both doors, kubectl's kubeconfig and a gRPC admin client; without
    ServiceAccount admission unless `disable_admission_plugins` says otherwise;
    `component_status`: what ComponentStatus probes."""
    (folder / "pki").mkdir()
    pki = make_pki(folder / "pki")
    rest_address = f"127.0.0.1:{free_port()}"
    server = await _start(
        etcd,
        pki,
        rest_address,
        disable_admission_plugins=disable_admission_plugins,
        component_status=component_status,
    )
    kubeconfig = folder / "kubeconfig"
    kubeconfig.write_text(kubeconfig_text(int(rest_address.rpartition(":")[2]), pki))
    cluster = RestCluster(
        etcd, folder, pki, kubeconfig, rest_address, server, grpc_client(server, pki)
    )
    try:
        yield cluster
    finally:
        await cluster.grpc.close()
        await cluster.server.stop(0)
