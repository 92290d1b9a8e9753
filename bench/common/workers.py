"""Load generators in separate processes, so that the client side of a benchmark is not one
Python process's single core. Each worker is spawned (not forked: gRPC does not survive a fork),
talks to the coordinator over a pipe, and runs its own asyncio loop.

The protocol is the phase's own; this module only spawns, passes messages and reports failures."""

from __future__ import annotations

import asyncio
import multiprocessing
import time
import traceback
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.context import SpawnProcess
from typing import Any, Generic, TypeVar

_SPAWN = multiprocessing.get_context("spawn")

SpecT = TypeVar("SpecT")
# A worker's body: `main(conn, spec)`, run on the worker's own event loop.
WorkerMain = Callable[[Connection, SpecT], Coroutine[object, None, None]]


@dataclass(frozen=True)
class WorkerFailed:
    """What a worker sends instead of its next message when it raises."""

    index: int
    traceback: str


def run_worker(conn: Connection, index: int, main: WorkerMain[SpecT], spec: SpecT) -> None:
    """The body of a worker process: runs `main(conn, spec)` on a fresh event loop."""
    try:
        asyncio.run(main(conn, spec))
    except BaseException:  # noqa: BLE001 - reported to the coordinator, which raises it
        conn.send(WorkerFailed(index, traceback.format_exc()))
    finally:
        conn.close()


async def receive(conn: Connection) -> Any:
    """The next message from the coordinator, without blocking the worker's event loop (whatever
    the phase's protocol sends: the receiver knows its type)."""
    return await asyncio.to_thread(conn.recv)


def spread(total: int, processes: int) -> list[int]:
    """`total` clients (or watchers) over at most `processes` processes, as evenly as possible."""
    processes = max(1, min(processes, total))
    return [total // processes + (i < total % processes) for i in range(processes)]


class WorkerGroup(Generic[SpecT]):
    """N worker processes running `target(conn, index, main, spec)`, one spec each."""

    def __init__(self, main: WorkerMain[SpecT], specs: list[SpecT]) -> None:
        self._conns: list[Connection] = []
        self._processes: list[SpawnProcess] = []
        for index, spec in enumerate(specs):
            parent, child = _SPAWN.Pipe()
            process = _SPAWN.Process(
                target=run_worker,
                args=(child, index, main, spec),
                name=f"bench-worker-{index}",
                daemon=True,
            )
            process.start()
            child.close()
            self._conns.append(parent)
            self._processes.append(process)

    def __len__(self) -> int:
        return len(self._conns)

    def send_all(self, message: object) -> None:
        for conn in self._conns:
            conn.send(message)

    async def receive_all(self, timeout: float, what: str) -> list[Any]:
        """One message from every worker; raises if one fails, dies or is silent for `timeout`."""
        return await asyncio.gather(
            *(asyncio.to_thread(self._receive, i, timeout, what) for i in range(len(self._conns)))
        )

    def _receive(self, index: int, timeout: float, what: str) -> Any:
        conn, process = self._conns[index], self._processes[index]
        deadline = time.monotonic() + timeout
        while not conn.poll(0.2):
            if not process.is_alive() and not conn.poll(0):
                raise RuntimeError(f"worker {index} exited ({process.exitcode}) before {what}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"worker {index}: no {what} within {timeout:.0f} s")
        try:
            message = conn.recv()
        except EOFError:
            raise RuntimeError(f"worker {index} closed its pipe before {what}") from None
        if isinstance(message, WorkerFailed):
            raise RuntimeError(f"worker {message.index} failed:\n{message.traceback}")
        return message

    def stop(self, timeout: float = 10.0) -> None:
        """Waits for the workers to exit; terminates (by PID) any that do not."""
        deadline = time.monotonic() + timeout
        for process in self._processes:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.terminate()
                process.join(5)
        for conn in self._conns:
            conn.close()
