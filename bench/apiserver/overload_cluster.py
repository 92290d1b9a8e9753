"""The overload benchmark's control plane: a test PKI with the identities the load runs as, a fresh
etcd, and `python -m apiserver` with TLS and client-certificate authentication (so that API
Priority and Fairness sees who calls: the controller-manager writing, the scheduler watching,
leader electors, kubelets), started with one guard, stopped by PID at the end.

Identities (CN, O as Kubernetes' x509 authenticator reads them): system:kube-controller-manager
(the writers: the one identity short of system:masters that may create and update pods),
system:kube-scheduler (the cluster watchers and one elector), and system:node:<node> in
system:nodes for each node (its watch and its lease heartbeat)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.common.pods import NAMESPACE
from bench.common.processes import EtcdProcess, free_port, tls_apiserver_args, wait_serving
from bench.common.progress import Progress
from bench.common.service_accounts import ensure_default_accounts
from podplane.client.credentials import Credentials
from podplane.componentbase import pki

START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0  # a graceful stop takes up to its servers' grace (5 s), more when loaded
# The apiserver flags of each guard the benchmark compares.
_OLD_LIMITS = ["--max-requests-inflight", "100", "--max-mutating-requests-inflight", "50"]
GUARDS: dict[str, list[str]] = {
    # API Priority and Fairness with its defaults: 75 seats (the in-flight flags' sum).
    "apf": [],
    # API Priority and Fairness with 150 seats (the sum of the flags' defaults before it).
    "apf-150": _OLD_LIMITS,
    # The max-in-flight guard as it was the default: 100 read-only, 50 mutating.
    "max-inflight": ["--enable-priority-and-fairness=false", *_OLD_LIMITS],
    "none": [
        "--enable-priority-and-fairness=false",
        "--max-requests-inflight",
        "0",
        "--max-mutating-requests-inflight",
        "0",
    ],
}
WRITER = "controller-manager"
SCHEDULER = "scheduler"


def node_name(index: int) -> str:
    """A node no kubelet runs: only the benchmark's node watchers and heartbeats are it."""
    return f"bench-overload-node-{index}"


def make_pki(folder: Path, nodes: int) -> None:
    """The cluster's certificates (CA, apiserver, scheduler, controller-manager, admin) and a
    client certificate per benchmark node."""
    pki.build(folder, nodes=[])
    ca, ca_key = pki.ensure_ca(folder)
    for i in range(nodes):
        name = node_name(i)
        pki.issue(
            folder,
            pki.CertSpec(name, f"system:node:{name}", ("system:nodes",), client=True),
            ca,
            ca_key,
        )


def credentials(pki_dir: str, name: str) -> Credentials:
    """The client certificate <name>.crt of the PKI."""
    folder = Path(pki_dir)
    return Credentials(
        str(folder / "ca.crt"), str(folder / f"{name}.crt"), str(folder / f"{name}.key")
    )


@dataclass(frozen=True)
class Cluster:
    target: str
    pki_dir: str
    description: str
    pids: dict[str, int]  # the processes whose CPU is observed
    metrics_url: str


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def control_plane(
    guard: str,
    nodes: int,
    progress: Progress,
    log_dir: str,
    profile_out: str | None = None,
    extra_args: Sequence[str] = (),
) -> Iterator[Cluster]:
    """A fresh etcd and TLS apiserver started with `guard`'s flags, stopped on the way out; the
    apiserver's log is kept in `log_dir`. With `profile_out`, the apiserver runs under cProfile
    (bench.common.profiled: its event loop thread's CPU time), which writes its stats there when
    the apiserver stops."""
    work_dir = tempfile.mkdtemp(prefix="podplane-bench-overload-")
    etcd: EtcdProcess | None = None
    apiserver: subprocess.Popen[bytes] | None = None
    log_path = os.path.join(log_dir, f"apiserver-overload-{guard}.log")
    log = open(log_path, "wb")
    try:
        pki_dir = Path(work_dir) / "pki"
        progress.step(f"making a test PKI ({nodes} node certificates)")
        make_pki(pki_dir, nodes)
        progress.step("starting etcd on a fresh data dir")
        etcd = EtcdProcess.start()
        port, metrics_port = free_port(), free_port()
        run = ["-m", "bench.common.profiled", profile_out] if profile_out else ["-m"]
        args = [
            *tls_apiserver_args(etcd.endpoint, pki_dir, port, 0, metrics_port, run),
            *GUARDS[guard],
            *extra_args,
        ]
        progress.step(f"starting the apiserver (TLS) with guard {guard}")
        apiserver = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        target = f"127.0.0.1:{port}"
        try:
            with credentials(str(pki_dir), "admin").channel(target) as channel:
                wait_serving(target, START_TIMEOUT, apiserver, channel)
        except RuntimeError as e:
            raise RuntimeError(f"{e}; see {log_path}") from None
        # No controller-manager here makes the account the writers' pods need.
        admin = credentials(str(pki_dir), "admin")
        asyncio.run(ensure_default_accounts(target, [NAMESPACE], admin))
        flags = " ".join([*GUARDS[guard], *extra_args]) or "(defaults: API Priority and Fairness)"
        yield Cluster(
            target,
            str(pki_dir),
            f"`python -m apiserver {flags}` with TLS (PID {apiserver.pid}) over etcd PID "
            f"{etcd.pid}, fresh data dir",
            {"apiserver": apiserver.pid, "etcd": etcd.pid},
            f"http://127.0.0.1:{metrics_port}/metrics",
        )
    finally:
        if apiserver is not None:
            _stop(apiserver)
        log.close()
        if etcd is not None:
            etcd.stop()
        shutil.rmtree(work_dir, ignore_errors=True)
