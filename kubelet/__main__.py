"""python -m kubelet --server HOST:PORT --node-name NAME --pod-cidr CIDR [--port 10250] ..."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import sys
from concurrent.futures import ThreadPoolExecutor

from kubelet.certificate.bootstrap import bootstrap
from kubelet.certificate.serving import serving_certificate
from kubelet.config import KubeletConfig, parse_args
from kubelet.kubelet import Kubelet
from kubelet.node.address import detect_node_ip
from kubelet.runtime.cri.runtime import CriRuntime
from kubelet.runtime.docker.runtime import DockerRuntime
from kubelet.runtime.types import ContainerRuntimeError
from podplane.client.clientset import Client, user_agent
from podplane.client.credentials import Credentials
from podplane.componentbase.gc_tuning import tune_garbage_collector
from podplane.componentbase.metrics import loop_health, serve_metrics
from podplane.componentbase.serving import configure_logging, wait_for_signal

log = logging.getLogger("kubelet")


async def run(config: KubeletConfig) -> int:
    # Every Docker call blocks a thread; stopping containers can take their grace period.
    asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(max_workers=64))
    try:
        runtime = await connect_runtime(config)
    except ContainerRuntimeError as e:
        flag = (
            "--container-runtime-endpoint" if config.container_runtime_endpoint else "--docker-host"
        )
        log.error("%s: %s", flag, e)
        return 1
    try:
        host_ip = config.node_ip or detect_node_ip(config.server)
    except OSError as e:
        log.error(
            "--server %s: cannot find the local address toward it (%s); set --node-ip",
            config.server,
            e,
        )
        return 1
    credentials = config.credentials
    if config.bootstrap_token_file and credentials is not None and not credentials.cert_file:
        credentials = await bootstrapped_credentials(config, credentials)
    client = Client(config.server, credentials=credentials, agent=user_agent("kubelet"))
    if config.rotate_server_certificates and not config.tls_cert_file:
        config = await with_serving_certificate(config, client, host_ip)
    kubelet = Kubelet(config, runtime, client, host_ip)
    # /healthz on the read-only port beside /metrics, as Kubernetes' kubelet serves it there.
    health = loop_health(asyncio.get_running_loop(), lambda: kubelet.server.serving)
    metrics = serve_metrics(config.metrics_bind_address, health)
    starting = asyncio.create_task(kubelet.start())
    stop = asyncio.create_task(wait_for_signal())
    try:
        await asyncio.wait({starting, stop}, return_when=asyncio.FIRST_COMPLETED)
        if starting.done():
            starting.result()
            await stop
        else:
            starting.cancel()
        log.info("stopping; the pods keep running")
    finally:
        await kubelet.stop()
        await client.close()
        runtime.close()
        if metrics is not None:
            await metrics.aclose()
    return 0


async def connect_runtime(config: KubeletConfig) -> CriRuntime | DockerRuntime:
    """The CRI runtime at --container-runtime-endpoint, else the Docker engine at --docker-host;
    either answers its version before the kubelet goes on."""
    if config.container_runtime_endpoint:
        log.info("container runtime: CRI at %s", config.container_runtime_endpoint)
        return await CriRuntime.connect(
            config.container_runtime_endpoint, config.node_name, config.pod_logs_dir
        )
    runtime = await DockerRuntime.connect(config.docker_host, config.node_name)
    await runtime.version()
    return runtime


async def bootstrapped_credentials(config: KubeletConfig, given: Credentials) -> Credentials:
    """The node's own client certificate, kept from an earlier start or asked for now with the
    bootstrap token (TLS bootstrapping: kubelet/certificate/bootstrap.py)."""
    token = Credentials(given.ca_file, token_file=config.bootstrap_token_file)
    bootstrap_client = Client(
        config.bootstrap_server, credentials=token, agent=user_agent("kubelet")
    )
    try:
        cert = await bootstrap(
            bootstrap_client.certificatesigningrequests, config.node_name, config.cert_dir
        )
    finally:
        await bootstrap_client.close()
    log.info("client certificate for node %s: %s", config.node_name, cert.cert_file)
    return Credentials(given.ca_file, cert_file=cert.cert_file, key_file=cert.key_file)


async def with_serving_certificate(
    config: KubeletConfig, client: Client, host_ip: str
) -> KubeletConfig:
    """The kubelet's serving certificate from the cluster's CA, kept from an earlier start or
    asked for now with the node's own credentials (kubelet/certificate/serving.py); the kubelet
    API then checks its callers against the CA it trusts the apiserver with."""
    cert = await serving_certificate(
        client.certificatesigningrequests, config.node_name, [host_ip], config.cert_dir
    )
    log.info("serving certificate for node %s: %s", config.node_name, cert.cert_file)
    ca = config.credentials.ca_file if config.credentials is not None else ""
    return dataclasses.replace(
        config,
        tls_cert_file=cert.cert_file,
        tls_private_key_file=cert.key_file,
        client_ca_file=config.client_ca_file or ca,
    )


def main(argv: list[str] | None = None) -> int:
    config = parse_args(argv)
    configure_logging(config.log_level)
    tune_garbage_collector()
    try:
        return asyncio.run(run(config))
    except RuntimeError as e:  # e.g. the kubelet port is taken
        log.error("%s", e)
        return 1


if __name__ == "__main__":
    sys.exit(main())
