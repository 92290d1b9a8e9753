"""python -m apiserver --etcd-servers http://127.0.0.1:2379 [--bind-address 0.0.0.0] [--port 6443]"""
from __future__ import annotations

import argparse
import asyncio
import sys

from apiserver.server import APIServer
from podplane.serving import configure_logging, wait_for_signal


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="apiserver", description=__doc__)
    p.add_argument("--etcd-servers", required=True,
                   help="comma-separated etcd endpoints, e.g. http://etcd:2379")
    p.add_argument("--bind-address", default="0.0.0.0")
    p.add_argument("--port", type=int, default=6443)
    p.add_argument("--etcd-wait-seconds", type=float, default=120.0,
                   help="how long to wait for etcd at start-up")
    p.add_argument("--log-level", default="INFO")
    args = p.parse_args(argv)
    if not 0 < args.port < 65536:
        p.error(f"--port: {args.port} is not a valid port (1-65535)")
    args.etcd_servers = [e.strip() for e in args.etcd_servers.split(",") if e.strip()]
    if not args.etcd_servers:
        p.error("--etcd-servers: at least one endpoint is required")
    return args


async def run(args: argparse.Namespace) -> None:
    server = APIServer(args.etcd_servers, f"{args.bind_address}:{args.port}")
    await server.start(args.etcd_wait_seconds)
    await wait_for_signal()
    await server.stop()


def main() -> None:
    args = parse_args(sys.argv[1:])
    configure_logging(args.log_level)
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
