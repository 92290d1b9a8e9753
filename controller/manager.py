"""Runs the controllers together (kube-controller-manager). One failing stops the manager, so that
its supervisor restarts it rather than leaving a controller silently dead."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Protocol

from controller.namespace import NamespaceController
from podplane.client import Client

log = logging.getLogger(__name__)


class Controller(Protocol):
    async def run(self) -> None: ...


# Every controller the manager can run, by the name `--controllers` uses.
CONTROLLERS: dict[str, Callable[[Client], Controller]] = {
    "namespace": NamespaceController,
}


class ControllerManager:
    def __init__(self, client: Client, names: list[str] | None = None) -> None:
        self.client = client
        self.controllers = {n: CONTROLLERS[n](client) for n in (names or list(CONTROLLERS))}

    async def run(self) -> None:
        tasks = []
        for name, c in self.controllers.items():
            log.info("starting the %s controller", name)
            tasks.append(asyncio.create_task(c.run(), name=f"controller-{name}"))
        try:
            await asyncio.gather(*tasks)
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
