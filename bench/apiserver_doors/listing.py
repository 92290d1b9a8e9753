"""`kubectl get pods` of N pods over the REST door against `podctl get pods` over the gRPC door:
the wall time of each command, start to exit, as a user waits for it. The pods are created first
in a namespace of their own; kubectl reads a kubeconfig written here (the REST door's https URL,
the cluster CA, the admin's client certificate), podctl the same credentials from PODPLANE_CA,
PODPLANE_CERT and PODPLANE_KEY. Both run with a HOME of their own (kubectl's discovery cache
in it, no ~/.podplane/config), once unmeasured to warm it, then alternately."""

from __future__ import annotations

import asyncio
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass

import yaml

from bench.apiserver_doors.doors import Doors
from bench.common.pods import PodsConnection, small_pod
from bench.common.progress import Progress
from bench.common.service_accounts import ensure_default_account
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import resources
from podplane.apimachinery.json_types import JSONObject
from podplane.client.clientset import ResourceClient

NAMESPACE = "podplane-bench-list"
SEED_CONCURRENCY = 32
COMMAND_TIMEOUT = 120.0
# What must not leak from the caller's environment into the commands timed.
DROPPED_ENV = (
    "KUBECONFIG",
    "KUBECACHEDIR",
    "PODPLANE_SERVER",
    "PODPLANE_TOKEN",
    "PODPLANE_TOKEN_FILE",
)


@dataclass(frozen=True)
class Options:
    pods: int
    repetitions: int
    kubectl: str


def kubeconfig(doors: Doors, namespace: str) -> JSONObject:
    """A kubeconfig for the REST door as the admin (kubeadm's admin.conf, with file paths)."""
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [
            {
                "name": "podplane-bench",
                "cluster": {"server": doors.rest_url, "certificate-authority": doors.ca_file},
            }
        ],
        "users": [
            {
                "name": "podplane-bench-admin",
                "user": {"client-certificate": doors.cert_file, "client-key": doors.key_file},
            }
        ],
        "contexts": [
            {
                "name": "podplane-bench",
                "context": {
                    "cluster": "podplane-bench",
                    "user": "podplane-bench-admin",
                    "namespace": namespace,
                },
            }
        ],
        "current-context": "podplane-bench",
    }


def kubectl_command(kubectl: str, kubeconfig_path: str, namespace: str) -> list[str]:
    return [kubectl, "--kubeconfig", kubeconfig_path, "get", "pods", "-n", namespace]


def podctl_command(doors: Doors, namespace: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "podctl",
        "--server",
        doors.grpc_target,
        "-n",
        namespace,
        "get",
        "pods",
    ]


def command_env(base: Mapping[str, str], home: str, doors: Doors) -> dict[str, str]:
    env = {k: v for k, v in base.items() if k not in DROPPED_ENV}
    return {
        **env,
        "HOME": home,
        "PODPLANE_CA": doors.ca_file,
        "PODPLANE_CERT": doors.cert_file,
        "PODPLANE_KEY": doors.key_file,
    }


def rows(stdout: str) -> int:
    """The objects a `get` printed: its lines but the header."""
    return max(len([line for line in stdout.splitlines() if line.strip()]) - 1, 0)


@dataclass(frozen=True)
class Timed:
    seconds: float
    cpu_seconds: float  # the command's own, user and system
    rows: int


def time_command(argv: list[str], env: dict[str, str]) -> Timed:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run(
        argv, env=env, capture_output=True, text=True, timeout=COMMAND_TIMEOUT, check=False
    )
    seconds = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(argv)} exited with {done.returncode}: {done.stderr.strip()[-2000:]}"
        )
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Timed(seconds, cpu, rows(done.stdout))


def timing_summary(argv: list[str], runs: list[Timed]) -> JSONObject:
    seconds = [r.seconds for r in runs]
    return {
        "command": " ".join(argv),
        "seconds": seconds,
        "median": statistics.median(seconds),
        "min": min(seconds),
        "max": max(seconds),
        "cpu_seconds_median": statistics.median(r.cpu_seconds for r in runs),
        "rows": sorted({r.rows for r in runs}),
    }


async def seed(doors: Doors, pods: int) -> float:
    """The namespace and its `pods` pods (created over gRPC); seconds it took."""
    t0 = time.perf_counter()
    connection = await PodsConnection.open(doors.grpc_target, 30, doors.credentials())
    try:
        namespaces = ResourceClient(connection.channel, resources.NAMESPACE, 30)
        await namespaces.create(core_pb2.Namespace(metadata=meta_pb2.ObjectMeta(name=NAMESPACE)))
        accounts = ResourceClient(connection.channel, resources.SERVICE_ACCOUNT, 30)
        await ensure_default_account(accounts, NAMESPACE)  # no controller-manager here
        limit = asyncio.Semaphore(SEED_CONCURRENCY)

        async def create(i: int) -> None:
            pod = small_pod(f"list-{i:05d}", {})
            pod.metadata.namespace = NAMESPACE
            async with limit:
                await connection.pods.create(pod)

        await asyncio.gather(*(create(i) for i in range(pods)))
    finally:
        await connection.close()
    return time.perf_counter() - t0


def run(doors: Doors, work_dir: str, options: Options, progress: Progress) -> JSONObject:
    progress.step(f"listing: creating {options.pods} pods in {NAMESPACE}")
    seed_seconds = asyncio.run(seed(doors, options.pods))
    home = os.path.join(work_dir, "home")
    os.makedirs(home, exist_ok=True)
    config_path = os.path.join(work_dir, "kubeconfig")
    with open(config_path, "w") as f:
        yaml.safe_dump(kubeconfig(doors, NAMESPACE), f)
    env = command_env(os.environ, home, doors)
    commands = {
        "kubectl": kubectl_command(options.kubectl, config_path, NAMESPACE),
        "podctl": podctl_command(doors, NAMESPACE),
    }
    for argv in commands.values():  # warm-up: kubectl's discovery cache, Python's bytecode
        time_command(argv, env)
    runs: dict[str, list[Timed]] = {name: [] for name in commands}
    for i in range(options.repetitions):
        for name, argv in commands.items():
            runs[name].append(time_command(argv, env))
        progress.step(
            f"  repetition {i + 1}/{options.repetitions}: kubectl "
            f"{runs['kubectl'][-1].seconds:.2f} s, podctl "
            f"{runs['podctl'][-1].seconds:.2f} s"
        )
    out = {name: timing_summary(commands[name], r) for name, r in runs.items()}
    return {
        "namespace": NAMESPACE,
        "pods": options.pods,
        "seed_seconds": seed_seconds,
        "repetitions": options.repetitions,
        **out,
        "kubectl_over_podctl": out["kubectl"]["median"] / out["podctl"]["median"],
    }
