"""Ingress throughput and latency (`podplane-bench ingress`) on the compose cluster: a Deployment
of backend pods behind a ClusterIP Service, then an Ingress for it served by the
ingress-haproxy add-on. Reports the time from the Ingress's create to its first routed request
(the host asking the controller's LoadBalancer address, every 5 ms), then wrk's requests/s and
p50/p90/p99 through the Ingress and straight to the Service's cluster IP (the cost of the extra
hop), both from one node's network namespace (the host's wrk run there with nsenter: a node
reaches cluster IPs through its kube-proxy's rules, the host does not).

The backend (--backend) is by default HAProxy answering 200 itself over kept-alive connections,
so that the figures are the Ingress's hop and not the backend's. `busybox` is busybox httpd, a
process per connection, no keep-alive and a listen backlog of 9: under the proxy's new connection
per request its accept queue overflows, the dropped SYN is sent again after a second, and about
one request in two hundred waits that second (wrk does not time a connect, so the direct path
hides the same drops)."""

from __future__ import annotations

import argparse
import asyncio
import datetime
import http.client
import secrets
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bench.common.compose import containers
from bench.common.results import write_json
from bench.ingress import wrk
from podplane.api.apps.v1 import apps_pb2
from podplane.api.core.v1 import core_pb2, service_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.api.networking.v1 import networking_pb2
from podplane.apimachinery import manifest
from podplane.apimachinery.json_types import JSONObject
from podplane.client.clientset import Client
from podplane.client.credentials import credentials_from
from podplane.componentbase import client_flags

CONTROLLER = ("ingress-haproxy", "ingress-haproxy")  # its LoadBalancer Service
APP = "bench-web"
BACKENDS = ("haproxy", "busybox")
# HAProxy answering every request itself, over kept-alive connections (nbthread 1: a pod's share).
HAPROXY_BACKEND = (
    "global\n    nbthread 1\n"
    "defaults\n    mode http\n    timeout connect 5s\n    timeout client 60s\n"
    "    timeout server 60s\n    timeout http-keep-alive 60s\n"
    "frontend web\n    bind :8080\n"
    "    http-request return status 200 content-type text/plain string ok\n"
)


@dataclass(frozen=True)
class Options:
    server: str = "localhost:6443"
    project: str = "podplane"
    node: str = "node-1"
    replicas: int = 2
    seconds: float = 10.0
    connections: int = 32
    threads: int = 2
    backend: str = "haproxy"
    timeout: float = 180.0
    out: str = "build/bench/ingress.json"


def _backend(backend: str) -> tuple[str, str]:
    """The backend's image and shell command, listening on 8080."""
    if backend == "busybox":
        return (
            "busybox",
            "mkdir -p /www && echo ok > /www/index.html && exec httpd -f -p 8080 -h /www",
        )
    config = HAPROXY_BACKEND.replace("\n", "\\n")
    return "podplane/ingress-haproxy:dev", (
        f"printf '{config}' > /tmp/web.cfg && exec haproxy -db -f /tmp/web.cfg"
    )


def _objects(namespace: str, replicas: int, host: str, backend: str) -> list[JSONObject]:
    labels = {"app": APP}
    meta = {"name": APP, "namespace": namespace}
    image, command = _backend(backend)
    return [
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": meta,
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "terminationGracePeriodSeconds": 1,
                        "containers": [
                            {
                                "name": "web",
                                "image": image,
                                "imagePullPolicy": "IfNotPresent",
                                "command": ["sh", "-c", command],
                                "ports": [{"name": "http", "containerPort": 8080}],
                                "readinessProbe": {
                                    "httpGet": {"path": "/index.html", "port": "http"},
                                    "periodSeconds": 1,
                                },
                            }
                        ],
                    },
                },
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": meta,
            "spec": {"selector": labels, "ports": [{"port": 80, "targetPort": "http"}]},
        },
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": meta,
            "spec": {
                "ingressClassName": "haproxy",
                "rules": [
                    {
                        "host": host,
                        "http": {
                            "paths": [
                                {
                                    "path": "/",
                                    "pathType": "Prefix",
                                    "backend": {"service": {"name": APP, "port": {"number": 80}}},
                                }
                            ]
                        },
                    }
                ],
            },
        },
    ]


async def _until(
    check: Callable[[], Awaitable[bool]], what: str, timeout: float, interval: float = 0.2
) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"no {what} after {timeout:.0f}s")
        await asyncio.sleep(interval)


def _routed(address: str, host: str) -> bool:
    try:
        conn = http.client.HTTPConnection(address, 80, timeout=1)
        conn.request("GET", "/", headers={"Host": host})
        ok = conn.getresponse().status == 200
        conn.close()
        return ok
    except OSError:
        return False


def _wrk(pid: int, options: Options, url: str, host: str = "") -> wrk.Report:
    command = ["nsenter", "-t", str(pid), "-n", "wrk", "--latency"]
    # wrk reads a duration as a whole number of seconds ("10s", not "10.0s").
    command += [f"-t{options.threads}", f"-c{options.connections}", f"-d{round(options.seconds)}s"]
    if host:
        command += ["-H", f"Host: {host}"]
    done = subprocess.run([*command, url], capture_output=True, text=True, check=True)
    return wrk.parse(done.stdout)


async def _measure(options: Options, client: Client, pid: int) -> JSONObject:
    controller = await client.services.get(CONTROLLER[1], CONTROLLER[0])
    addresses = [i.ip for i in controller.status.load_balancer.ingress if i.ip]
    if not addresses:
        raise SystemExit("the ingress-haproxy Service has no address: is the add-on running?")
    address = addresses[0]
    namespace = f"bench-ingress-{secrets.token_hex(3)}"
    host = f"{namespace}.example.com"
    await client.namespaces.create(core_pb2.Namespace(metadata=meta_pb2.ObjectMeta(name=namespace)))
    try:
        deployment, service, ingress = (
            manifest.from_dict(o)
            for o in _objects(namespace, options.replicas, host, options.backend)
        )
        assert isinstance(deployment, apps_pb2.Deployment)
        assert isinstance(service, service_pb2.Service)
        assert isinstance(ingress, networking_pb2.Ingress)
        await client.deployments.create(deployment)
        svc = await client.services.create(service)

        async def ready() -> bool:
            d = await client.deployments.get(APP, namespace)
            return d.status.ready_replicas == options.replicas

        await _until(ready, "ready backends", options.timeout)
        created = time.monotonic()
        await client.ingresses.create(ingress)

        async def routed() -> bool:
            return await asyncio.to_thread(_routed, address, host)

        await _until(routed, "routed request", options.timeout, interval=0.005)
        create_to_routed = time.monotonic() - created
        print(f"routed {create_to_routed:.3f}s after create; wrk ...", file=sys.stderr)
        through = await asyncio.to_thread(_wrk, pid, options, f"http://{address}/", host)
        direct = await asyncio.to_thread(_wrk, pid, options, f"http://{svc.spec.cluster_ip}/")
    finally:
        await client.namespaces.delete(namespace)
    return {
        "address": address,
        "create_to_routed_s": create_to_routed,
        "ingress": through.to_json(),
        "cluster_ip": direct.to_json(),
    }


def run(options: Options) -> int:
    if shutil.which("wrk") is None or shutil.which("nsenter") is None:
        raise SystemExit(
            "podplane-bench ingress needs wrk and nsenter (scripts/host-setup.sh --tests)"
        )
    node = next((c for c in containers(options.project) if c.service == options.node), None)
    if node is None:
        raise SystemExit(f"no running {options.node} in the compose project {options.project!r}")
    started_at = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")

    async def main() -> JSONObject:
        async with Client(options.server, timeout=30, credentials=credentials_from()) as client:
            return await _measure(options, client, node.pid)

    measured = asyncio.run(main())
    result: JSONObject = {
        "command": "podplane-bench " + shlex.join(sys.argv[1:]),
        "started_at": started_at,
        "node": options.node,
        "backend": options.backend,
        "seconds": options.seconds,
        "connections": options.connections,
        **measured,
    }
    write_json(options.out, result)
    print("| path | requests/s | p50 ms | p90 ms | p99 ms | errors |")
    print("|---|---|---|---|---|---|")
    for name in ("ingress", "cluster_ip"):
        r = measured[name]
        ms = " | ".join(f"{r[p] * 1000:.2f}" for p in ("p50", "p90", "p99"))
        print(f"| {name} | {r['per_second']:.0f} | {ms} | {r['errors']} |")
    print(f"create to first routed request: {measured['create_to_routed_s']:.3f}s")
    print(f"written {options.out}", file=sys.stderr)
    return 0


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    defaults = Options()
    p = sub.add_parser(
        "ingress",
        help="requests/s and p99 through the ingress-haproxy add-on against a cluster IP, and "
        "the time from an Ingress's create to its first routed request",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    client_flags.add_server_flag(p, default=defaults.server, help="the apiserver (host:port)")
    p.add_argument("--project", default=defaults.project, help="the compose project")
    p.add_argument("--node", default=defaults.node, help="the node wrk runs from")
    p.add_argument("--replicas", type=int, default=defaults.replicas, help="backend pods")
    p.add_argument(
        "--backend",
        choices=BACKENDS,
        default=defaults.backend,
        help="HAProxy answering itself (kept-alive), or busybox httpd (a connection a request)",
    )
    p.add_argument("--seconds", type=float, default=defaults.seconds, help="each wrk run")
    p.add_argument("--connections", type=int, default=defaults.connections, help="wrk's -c")
    p.add_argument("--threads", type=int, default=defaults.threads, help="wrk's -t")
    p.add_argument("--out", default=defaults.out, help="the JSON result")


def options_from(args: argparse.Namespace) -> Options:
    if (
        args.replicas < 1
        or args.seconds <= 0
        or args.connections < args.threads
        or args.threads < 1
    ):
        raise SystemExit("--replicas and --threads >= 1, --seconds > 0, --connections >= --threads")
    return Options(
        server=args.server,
        project=args.project,
        node=args.node,
        replicas=args.replicas,
        seconds=args.seconds,
        connections=args.connections,
        threads=args.threads,
        backend=args.backend,
        out=args.out,
    )
