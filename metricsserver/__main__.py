"""python -m metricsserver --server HOST:PORT [--ca-file ... --token-file ...]
[--metric-resolution 15s] [--kubelet-insecure-tls] ..."""

from __future__ import annotations

import asyncio
import logging
import sys

from metricsserver.app import MetricsServer
from metricsserver.options import Options, parse_args
from podplane.client.clientset import Client, user_agent
from podplane.componentbase.serving import configure_logging, wait_for_signal

log = logging.getLogger("metricsserver")


async def run(options: Options) -> int:
    client = Client(
        options.server, credentials=options.credentials, agent=user_agent("metrics-server")
    )
    server = MetricsServer(options, client)
    try:
        await server.start()
    except Exception as e:  # noqa: BLE001 - no trust to serve with, or no port: exits, restarted
        log.error("cannot start: %s", e)
        await server.stop()
        await client.close()
        return 1
    scraping = asyncio.create_task(server.run(), name="metrics-server")
    signalled = asyncio.create_task(wait_for_signal(), name="signals")
    failure: BaseException | None = None
    try:
        await asyncio.wait((scraping, signalled), return_when=asyncio.FIRST_COMPLETED)
        if scraping.done() and not scraping.cancelled():
            failure = scraping.exception()
    finally:
        for task in (scraping, signalled):
            task.cancel()
        await server.stop()
        await client.close()
    if failure is not None:
        log.error("stopped: %s", failure)  # its pod restarts it
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    configure_logging(options.log_level)
    return asyncio.run(run(options))


if __name__ == "__main__":
    sys.exit(main())
