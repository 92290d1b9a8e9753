"""`make fuzz`: the long fuzzing run of each front door (REST, then gRPC), against an apiserver of
its own over an etcd of its own (the integration suite's: tests/integration/rest_cluster.py),
with TLS and the admin's certificate as the compose cluster has them. Prints each door's result
as JSON (also written to
build/fuzz/result.json) and exits 1 if any answer broke the rules or the apiserver was not ready
afterwards."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

from podplane.apimachinery.json_types import JSONObject
from podplane.client.clientset import CHANNEL_OPTIONS
from podplane.client.credentials import aio_channel
from tests.fuzz.grpc_door import fuzz_grpc
from tests.fuzz.report import FuzzResult
from tests.fuzz.rest_door import Door, admin_ssl, fuzz_rest
from tests.integration.control_plane import etcd_process
from tests.integration.rest_cluster import RestCluster, rest_cluster
from tests.pki_support import cert_credentials
from tests.support import new_namespace

RESULT = Path("build/fuzz/result.json")


async def ready(cluster: RestCluster) -> bool:
    """/readyz answers ok and an ordinary list is answered: the apiserver survived."""
    import aiohttp

    door = rest_door(cluster)
    async with aiohttp.ClientSession() as session:
        async with session.get(
            f"{door.base_url}/readyz", ssl=door.ssl_context or False
        ) as response:
            if response.status != 200:
                return False
    await cluster.grpc.pods.list("default")
    return True


def rest_door(cluster: RestCluster) -> Door:
    pki = cluster.pki
    context = admin_ssl(str(pki / "ca.crt"), str(pki / "admin.crt"), str(pki / "admin.key"))
    return Door(f"https://127.0.0.1:{cluster.rest_port}", context)


async def grpc_run(cluster: RestCluster, requests: int, seed: int, concurrency: int) -> FuzzResult:
    """The gRPC door's run (tests/fuzz/grpc_door.py) as the admin, in a report like the REST
    door's."""
    target = f"127.0.0.1:{cluster.server.port}"
    started = time.monotonic()
    async with aio_channel(target, cert_credentials(cluster.pki, "admin"), CHANNEL_OPTIONS) as ch:
        found = await fuzz_grpc(
            ch, "fuzz-grpc", requests=requests, seed=seed, concurrency=concurrency
        )
    result = FuzzResult("gRPC", requests=found.requests, codes=found.codes)
    result.seconds = time.monotonic() - started
    for failure in found.failures:
        result.failed(failure)
    return result


async def run(
    requests: int, seed: int, concurrency: int, doors: list[str]
) -> tuple[list[FuzzResult], bool]:
    with etcd_process() as etcd, tempfile.TemporaryDirectory(prefix="podplane-fuzz-") as folder:
        async with rest_cluster(etcd, Path(folder)) as cluster:
            results = []
            if "rest" in doors:
                namespace = await new_namespace(cluster.grpc, "fuzz-")
                door = rest_door(cluster)
                results.append(
                    await fuzz_rest(
                        door, namespace, requests=requests, seed=seed, concurrency=concurrency
                    )
                )
            if "grpc" in doors:
                results.append(await grpc_run(cluster, requests, seed, concurrency))
            return results, await ready(cluster)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__)
    parser.add_argument("--requests", type=int, default=100_000, help="requests per door")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument(
        "--doors", default="rest,grpc", help="which front doors, comma-separated (rest, grpc)"
    )
    args = parser.parse_args(argv)
    doors = args.doors.split(",")
    results, was_ready = asyncio.run(run(args.requests, args.seed, args.concurrency, doors))
    summary: JSONObject = {
        "seed": args.seed,
        "doors": [r.as_json() for r in results],
        "ready_afterwards": was_ready,
    }
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(summary, indent=2, ensure_ascii=False))
    failed = any(r.failure_count for r in results) or not was_ready
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
