"""python -m clusterdns --server HOST:PORT [--ca-file ... --cert-file ... --key-file ...]
[--cluster-domain cluster.local] [--upstream /etc/resolv.conf] ..."""

from __future__ import annotations

import asyncio
import logging
import sys

from clusterdns.app import ClusterDNS
from clusterdns.options import Options, parse_args
from podplane.client.clientset import Client, user_agent
from podplane.componentbase.gc_tuning import tune_garbage_collector
from podplane.componentbase.serving import configure_logging, wait_for_signal

log = logging.getLogger("clusterdns")


async def run(options: Options) -> int:
    client = Client(options.server, credentials=options.credentials, agent=user_agent("coredns"))
    server = ClusterDNS(options, client)
    try:
        await server.start()
    except OSError as e:
        log.error("cannot listen: %s", e)
        await client.close()
        return 1
    synced = asyncio.create_task(server.wait_synced())
    try:
        await wait_for_signal()
        log.info("stopping: not ready, answering for %gs more", options.lameduck)
    finally:
        synced.cancel()
        await server.stop(options.lameduck)
        await client.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    configure_logging(options.log_level)
    tune_garbage_collector()
    return asyncio.run(run(options))


if __name__ == "__main__":
    sys.exit(main())
