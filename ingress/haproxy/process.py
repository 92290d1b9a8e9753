"""HAProxy in master-worker mode (-W): started once; on a new configuration, SIGUSR2 to the master,
which starts new workers on the listening sockets it keeps (handed over through the stats socket's
expose-fd listeners) while the old ones finish their connections, so that no connection is
refused during a reload. A configuration HAProxy refuses (`-c`) is not loaded: the old one
serves on. Each load is awaited until the master reports it ("Loading success."): a SIGUSR2 sent
while the master re-executes itself for the previous one would be lost."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

LOADED, FAILED = "Loading success.", "Loading failure!"
LOAD_TIMEOUT = 10.0  # seconds for HAProxy to load a checked configuration (well under 1 s)


class HAProxyError(Exception):
    pass


class HAProxy:
    def __init__(self, binary: str, config: Path, on_exit: Callable[[], None]) -> None:
        """`on_exit` is called when the master exits unasked (the next apply starts it again)."""
        self.binary = binary
        self.config = config
        self.on_exit = on_exit
        self.process: asyncio.subprocess.Process | None = None
        self._logs: asyncio.Task[None] | None = None
        self._stopping = False
        # The outcome of the load under way: True once loaded, False if refused.
        self._loading: asyncio.Future[bool] | None = None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None

    async def check(self) -> None:
        """Raises HAProxyError with HAProxy's own words when it refuses the configuration."""
        checker = await asyncio.create_subprocess_exec(
            self.binary,
            "-c",
            "-q",
            "-f",
            str(self.config),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await checker.communicate()
        if checker.returncode != 0:
            raise HAProxyError(output.decode(errors="replace").strip())

    async def start(self) -> None:
        self._loading = asyncio.get_running_loop().create_future()
        self.process = await asyncio.create_subprocess_exec(
            self.binary,
            "-W",
            "-db",
            "-f",
            str(self.config),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
        self._logs = asyncio.create_task(self._relay_logs(self.process))
        log.info("haproxy started (master pid %d)", self.process.pid)
        await self._loaded()

    async def _relay_logs(self, process: asyncio.subprocess.Process) -> None:
        """Its output into the controller's log until it exits; an exit not asked for is
        reported."""
        assert process.stdout is not None
        async for raw in process.stdout:
            line = raw.decode(errors="replace").rstrip()
            log.info("haproxy: %s", line)
            if (LOADED in line or FAILED in line) and self._loading and not self._loading.done():
                self._loading.set_result(LOADED in line)
        code = await process.wait()
        if self._loading is not None and not self._loading.done():
            self._loading.set_result(False)
        if not self._stopping:
            log.warning("haproxy exited with status %d", code)
            self.on_exit()

    async def apply(self) -> None:
        """Loads the configuration now in the file: starts HAProxy, or reloads it seamlessly."""
        await self.check()
        if not self.running:
            await self.start()
            return
        assert self.process is not None
        self._loading = asyncio.get_running_loop().create_future()
        self.process.send_signal(signal.SIGUSR2)
        await self._loaded()
        log.info("haproxy reloaded")

    async def _loaded(self) -> None:
        assert self._loading is not None
        try:
            async with asyncio.timeout(LOAD_TIMEOUT):
                loaded = await self._loading
        except TimeoutError:
            raise HAProxyError(f"no load reported in {LOAD_TIMEOUT:.0f}s") from None
        if not loaded:
            raise HAProxyError("haproxy did not load the configuration (its log says why)")

    async def stop(self) -> None:
        """SIGUSR1 (soft stop: the workers finish their connections), then SIGTERM."""
        process = self.process
        self._stopping = True
        if process is None or process.returncode is not None:
            return
        process.send_signal(signal.SIGUSR1)
        try:
            async with asyncio.timeout(10):
                await process.wait()
        except TimeoutError:
            process.terminate()
            await process.wait()
        if self._logs is not None:
            await asyncio.gather(self._logs, return_exceptions=True)
