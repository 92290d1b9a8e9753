"""What admission webhooks cost a write: ConfigMap creates through the gRPC door of an apiserver
run in this process over a real etcd, one client, each create timed, in rounds that alternate
the webhooks in force:

- none;
- one validating webhook (/allow: admits);
- one mutating webhook (/label: admits with a JSON patch, so the object is decoded again);
- one mutating and one validating webhook (the issue's "a create through one of each");
- three validating webhooks (called at once, as Kubernetes calls validating webhooks).

The webhooks are one HTTPS server in a process of its own (bench/apiserver/webhook_backend.py)
on 127.0.0.1, configured by `url` with its CA as caBundle. A configuration is in force once a
probe create is refused (the backend refuses names "probe-*"). Prints p50 and p99 per create of
each round and what a webhook adds at p50.

    nice -n 19 .venv/bin/python -m bench.apiserver.admission_webhooks [N]
"""

from __future__ import annotations

import asyncio
import base64
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import grpc

from apiserver.server import APIServer
from bench.common.processes import EtcdProcess, free_port
from bench.common.stats import percentile
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import manifest
from podplane.client.clientset import Client
from podplane.componentbase import pki

NAMESPACE = "bench"
# round name -> the configurations in force during the round: (kind, each webhook's path).
Configurations = tuple[tuple[str, tuple[str, ...]], ...]
ROUNDS: dict[str, Configurations] = {
    "no webhook": (),
    "1 validating": (("Validating", ("allow",)),),
    "1 mutating": (("Mutating", ("label",)),),
    "1 of each": (("Mutating", ("label",)), ("Validating", ("allow",))),
    "3 validating": (("Validating", ("allow", "allow", "allow")),),
}


def configuration(kind: str, paths: tuple[str, ...], port: int, ca: bytes) -> Any:
    hooks = [
        {
            "name": f"hook-{i}.bench.podplane.io",
            "clientConfig": {
                "url": f"https://127.0.0.1:{port}/{path}",
                "caBundle": base64.b64encode(ca).decode(),
            },
            "rules": [
                {
                    "apiGroups": [""],
                    "apiVersions": ["v1"],
                    "operations": ["CREATE"],
                    "resources": ["configmaps"],
                }
            ],
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": NAMESPACE}},
            "admissionReviewVersions": ["v1"],
            "sideEffects": "None",
            "failurePolicy": "Fail",
        }
        for i, path in enumerate(paths)
    ]
    return manifest.from_dict(
        {
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": f"{kind}WebhookConfiguration",
            "metadata": {"name": "bench"},
            "webhooks": hooks,
        }
    )


def _configmap(name: str) -> core_pb2.ConfigMap:
    return core_pb2.ConfigMap(
        metadata={"name": name, "namespace": NAMESPACE}, data={"key": "value"}
    )


async def _in_force(client: Client, expected: bool) -> None:
    """Until a probe create is refused (a webhook in force) or admitted (none)."""
    for attempt in range(600):
        name = f"probe-{attempt}"
        try:
            await client.configmaps.create(_configmap(name))
            await client.configmaps.delete(name, NAMESPACE)
            refused = False
        except grpc.aio.AioRpcError:
            refused = True
        if refused == expected:
            return
        await asyncio.sleep(0.05)
    raise RuntimeError(f"the webhooks did not come {'in' if expected else 'out of'} force")


async def _set(client: Client, kind: str, paths: tuple[str, ...], port: int, ca: bytes) -> None:
    obj = configuration(kind, paths, port, ca)
    if kind == "Validating":
        await client.validatingwebhookconfigurations.create(obj)
    else:
        await client.mutatingwebhookconfigurations.create(obj)
    await _in_force(client, True)


async def _unset(client: Client, kind: str) -> None:
    if kind == "Validating":
        await client.validatingwebhookconfigurations.delete("bench")
    else:
        await client.mutatingwebhookconfigurations.delete("bench")


async def _timed_creates(client: Client, prefix: str, n: int) -> list[float]:
    seconds = []
    for i in range(n):
        start = time.perf_counter()
        await client.configmaps.create(_configmap(f"{prefix}-{i}"))
        seconds.append(time.perf_counter() - start)
    return seconds


async def measure(n: int, repeats: int, folder: Path) -> dict[str, list[float]]:
    ca, ca_key = pki.ensure_ca(folder, "bench-webhook-ca")
    spec = pki.CertSpec("webhook", "127.0.0.1", ip_addresses=("127.0.0.1",), server=True)
    pki.issue(folder, spec, ca, ca_key)
    ca_pem = (folder / "ca.crt").read_bytes()
    port = free_port()
    backend = subprocess.Popen(
        [sys.executable, "-m", "bench.apiserver.webhook_backend", str(port),
         str(folder / "webhook.crt"), str(folder / "webhook.key")],
    )  # fmt: skip
    etcd = EtcdProcess.start()
    server = APIServer([etcd.endpoint], "127.0.0.1:0", compaction_interval=0)
    samples: dict[str, list[float]] = {name: [] for name in ROUNDS}
    try:
        await server.start(etcd_timeout=20)
        client = Client(f"127.0.0.1:{server.port}", timeout=30)
        await client.namespaces.create(core_pb2.Namespace(metadata={"name": NAMESPACE}))
        await _timed_creates(client, "warm", 50)
        for r in range(repeats):
            for i, (name, configurations) in enumerate(ROUNDS.items()):
                for kind, paths in configurations:
                    await _set(client, kind, paths, port, ca_pem)
                samples[name] += await _timed_creates(client, f"r{r}-{i}", n)
                for kind, _ in configurations:
                    await _unset(client, kind)
                if configurations:
                    await _in_force(client, False)
        await client.close()
        return samples
    finally:
        await server.stop(0)
        etcd.stop()
        backend.terminate()
        backend.wait(10)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    repeats = 3
    with tempfile.TemporaryDirectory(prefix="bench-webhooks-") as folder:
        samples = asyncio.run(measure(n, repeats, Path(folder)))
    base = statistics.median(samples["no webhook"])
    print(f"ConfigMap creates, 1 client, {n} per round, {repeats} rounds of each, ms per create:")
    print(f"{'':14} {'p50':>6} {'p99':>6} {'added at p50':>13}")
    for name, values in samples.items():
        values.sort()
        p50, p99 = percentile(values, 50), percentile(values, 99)
        added = f"{(p50 - base) * 1e3:13.2f}" if name != "no webhook" else f"{'':13}"
        print(f"{name:14} {p50 * 1e3:6.2f} {p99 * 1e3:6.2f} {added}")


if __name__ == "__main__":
    main()
