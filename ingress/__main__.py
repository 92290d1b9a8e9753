"""python -m ingress --server HOST:PORT [--ca-file ... --token-file ...]
[--publish-service NAMESPACE/NAME] [--http-port 80 --https-port 443] ..."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys

from ingress.controller import IngressController
from ingress.options import Options, parse_args
from podplane.client.clientset import Client, user_agent
from podplane.componentbase.gc_tuning import tune_garbage_collector
from podplane.componentbase.serving import configure_logging, wait_for_signal

log = logging.getLogger("ingress")


async def run(options: Options) -> int:
    client = Client(
        options.server, credentials=options.credentials, agent=user_agent("ingress-haproxy")
    )
    controller = IngressController(client, options)
    running = asyncio.create_task(controller.run(), name="ingress-controller")
    stop = asyncio.create_task(wait_for_signal())
    try:
        await asyncio.wait({running, stop}, return_when=asyncio.FIRST_COMPLETED)
        log.info("stopping")
    finally:
        stop.cancel()
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
        await client.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    configure_logging(options.log_level)
    tune_garbage_collector()
    return asyncio.run(run(options))


if __name__ == "__main__":
    sys.exit(main())
