"""python -m ingress --server HOST:PORT [--ca-file ... --token-file ...]
[--publish-service NAMESPACE/NAME] [--http-port 80 --https-port 443] ..."""

from __future__ import annotations

import asyncio
import logging
import sys

from ingress.controller import IngressController
from ingress.options import Options, parse_args
from podplane.client.clientset import Client, user_agent
from podplane.componentbase.gc_tuning import tune_garbage_collector
from podplane.componentbase.serving import configure_logging, run_until_signal

log = logging.getLogger("ingress")


async def run(options: Options) -> int:
    client = Client(
        options.server, credentials=options.credentials, agent=user_agent("ingress-haproxy")
    )
    controller = IngressController(client, options)
    try:
        await run_until_signal(controller.run(), "ingress-controller")
        log.info("stopping")
    finally:
        await client.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    configure_logging(options.log_level)
    tune_garbage_collector()
    return asyncio.run(run(options))


if __name__ == "__main__":
    sys.exit(main())
