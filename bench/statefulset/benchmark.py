"""StatefulSet scale-up on a running cluster (`podplane-bench statefulset`): a StatefulSet of
busybox pods (sleep 3600, image present, grace 0) is scaled from 0 to N replicas, and the time
from the scale to the moment all N pods are Running and Ready (as a watch of the pods delivers
them) is reported for each cell: podManagementPolicy OrderedReady and Parallel, each without and
with a volumeClaimTemplate (a claim per pod from the cluster's default class, which the local-path
provisioner binds on the pod's node).

OrderedReady makes one pod at a time, each after the one before is Running and Ready, so its time
is N pod start-ups end to end; Parallel makes them all at once; a claim adds its provisioning to
every start-up. Each cell runs in a fresh namespace, deleted (and waited for) afterwards."""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import secrets
import shlex
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from podplane.api.apps.v1 import apps_pb2
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import manifest
from podplane.client.clientset import Client, is_conflict, is_not_found
from podplane.client.credentials import credentials_from
from podplane.componentbase import client_flags

POLICIES = ("OrderedReady", "Parallel")
NAMESPACE_GONE_TIMEOUT = 300.0


@dataclass(frozen=True)
class Options:
    server: str = "localhost:6443"
    replicas: int = 50
    policies: tuple[str, ...] = POLICIES
    # Cells without and with a claim template.
    claims: tuple[bool, ...] = (False, True)
    claim_size: str = "16Mi"
    timeout: float = 1200.0
    out: str = "build/bench/statefulset.json"


def statefulset(namespace: str, policy: str, claims: bool, claim_size: str) -> apps_pb2.StatefulSet:
    container: dict[str, object] = {
        "name": "main",
        "image": "busybox",
        "imagePullPolicy": "IfNotPresent",
        "command": ["sleep", "3600"],
    }
    spec: dict[str, object] = {
        "serviceName": "bench",
        "replicas": 0,
        "podManagementPolicy": policy,
        "selector": {"matchLabels": {"app": "bench"}},
        "template": {
            "metadata": {"labels": {"app": "bench"}},
            "spec": {"terminationGracePeriodSeconds": 0, "containers": [container]},
        },
    }
    if claims:
        container["volumeMounts"] = [{"name": "data", "mountPath": "/data"}]
        spec["volumeClaimTemplates"] = [
            {
                "metadata": {"name": "data"},
                "spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "resources": {"requests": {"storage": claim_size}},
                },
            }
        ]
    sts = manifest.from_dict(
        {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": {"name": "bench", "namespace": namespace},
            "spec": spec,
        },
        apps_pb2.StatefulSet,
    )
    return sts


def is_ready(pod: core_pb2.Pod) -> bool:
    return (
        pod.status.phase == "Running"
        and not pod.metadata.deletion_timestamp
        and any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions)
    )


@dataclass
class Cell:
    policy: str
    claims: bool
    namespace: str
    replicas: int
    # Seconds from the scale to: the first pod created, the first ready, all ready (None: never).
    first_created: float | None = None
    first_ready: float | None = None
    all_ready: float | None = None
    ready: int = 0
    errors: list[str] = field(default_factory=list)

    def row(self) -> str:
        def shown(value: float | None) -> str:
            return "-" if value is None else f"{value:.1f}"

        rate = f"{self.replicas / self.all_ready:.2f}" if self.all_ready else "-"
        claims = "yes" if self.claims else "no"
        return (
            f"| {self.policy} | {claims} | {self.replicas} | {shown(self.all_ready)} | {rate} "
            f"| {shown(self.first_ready)} | {self.ready}/{self.replicas} |"
        )


HEADER = (
    "| podManagementPolicy | claims | replicas | seconds to all Running and Ready | pods/s "
    "| first ready (s) | ready |\n|---|---|---|---|---|---|---|"
)


async def _scale(client: Client, namespace: str, replicas: int) -> None:
    while True:
        sts = await client.statefulsets.get("bench", namespace)
        sts.spec.replicas = replicas
        try:
            await client.statefulsets.update(sts)
            return
        except Exception as e:
            if not is_conflict(e):
                raise


async def measure_cell(options: Options, client: Client, cell: Cell) -> None:
    ns = cell.namespace
    await client.statefulsets.create(statefulset(ns, cell.policy, cell.claims, options.claim_size))
    listed = await client.pods.list(ns)
    watch = client.pods.watch(ns, resource_version=listed.metadata.resource_version)
    ready: set[str] = set()
    done = asyncio.Event()
    start = time.monotonic()  # set again just before the scale

    async def follow() -> None:
        async for event in watch:
            now = time.monotonic() - start
            pod, name = event.object, event.object.metadata.name
            if cell.first_created is None and event.type == "ADDED":
                cell.first_created = now
            if event.type != "DELETED" and is_ready(pod):
                ready.add(name)
                if cell.first_ready is None:
                    cell.first_ready = now
            else:
                ready.discard(name)
            cell.ready = len(ready)
            if len(ready) >= cell.replicas:
                cell.all_ready = now
                done.set()
                return

    follower = asyncio.create_task(follow())
    try:
        start = time.monotonic()
        await _scale(client, ns, cell.replicas)
        try:
            async with asyncio.timeout(options.timeout):
                await done.wait()
        except TimeoutError:
            cell.errors.append(f"{cell.ready}/{cell.replicas} ready after {options.timeout:.0f} s")
    finally:
        watch.cancel()
        follower.cancel()


async def _delete_namespace(client: Client, namespace: str) -> None:
    await client.namespaces.delete(namespace)
    deadline = time.monotonic() + NAMESPACE_GONE_TIMEOUT
    while time.monotonic() < deadline:
        try:
            await client.namespaces.get(namespace)
        except Exception as e:
            if is_not_found(e):
                return
            raise
        await asyncio.sleep(1.0)
    print(
        f"namespace {namespace} still there after {NAMESPACE_GONE_TIMEOUT:.0f} s", file=sys.stderr
    )


async def _run(options: Options) -> list[Cell]:
    cells = []
    async with Client(options.server, timeout=30, credentials=credentials_from()) as client:
        for claims in options.claims:
            for policy in options.policies:
                ns = f"bench-sts-{secrets.token_hex(3)}"
                cell = Cell(policy, claims, ns, options.replicas)
                with_claims = "with" if claims else "without"
                print(
                    f"{policy}, {with_claims} claims: scaling to {options.replicas} in {ns} ...",
                    file=sys.stderr,
                )
                await client.namespaces.create(
                    core_pb2.Namespace(metadata=meta_pb2.ObjectMeta(name=ns))
                )
                try:
                    await measure_cell(options, client, cell)
                finally:
                    await _delete_namespace(client, ns)
                cells.append(cell)
    return cells


def add_parser(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], positive: Callable[[str], int]
) -> None:
    defaults = Options()
    p = sub.add_parser(
        "statefulset",
        help="StatefulSet scale-up 0 -> N: seconds until every pod is Running and Ready",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    client_flags.add_server_flag(p, default=defaults.server, help="the apiserver (host:port)")
    p.add_argument("--replicas", type=positive, default=defaults.replicas, help="N")
    p.add_argument(
        "--policies",
        default=",".join(defaults.policies),
        help="podManagementPolicy values, comma-separated (default OrderedReady,Parallel)",
    )
    p.add_argument(
        "--claims",
        choices=("both", "without", "with"),
        default="both",
        help="cells without and/or with a volumeClaimTemplate (default both)",
    )
    p.add_argument("--timeout", type=float, default=defaults.timeout, help="seconds per cell")
    p.add_argument("--out", default=defaults.out, help="the JSON result")


def options_from(args: argparse.Namespace) -> Options:
    policies = tuple(p.strip() for p in args.policies.split(",") if p.strip())
    unknown = [p for p in policies if p not in POLICIES]
    if unknown or not policies:
        raise SystemExit(f"--policies: expected some of {', '.join(POLICIES)}, not {unknown}")
    claims = {"both": (False, True), "without": (False,), "with": (True,)}[args.claims]
    return Options(
        server=args.server,
        replicas=args.replicas,
        policies=policies,
        claims=claims,
        timeout=args.timeout,
        out=args.out,
    )


def run(options: Options) -> int:
    started_at = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    cells = asyncio.run(_run(options))
    result = {
        "command": "podplane-bench " + shlex.join(sys.argv[1:]),
        "started_at": started_at,
        "settings": asdict(options),
        "load_average": list(os.getloadavg()),
        "cells": [asdict(c) for c in cells],
    }
    os.makedirs(os.path.dirname(os.path.abspath(options.out)), exist_ok=True)
    with open(options.out, "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    sys.stdout.write(HEADER + "\n" + "\n".join(c.row() for c in cells) + "\n")
    print(f"written: {options.out}", file=sys.stderr)
    return 0 if all(c.all_ready is not None for c in cells) else 1
