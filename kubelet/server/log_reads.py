"""How much of each container's log the kubelet's log reads have served, so that an attach to a
container that ended while the pod's status still showed it running can give the output its
caller has not read (attach.py, EndedProcess).

kubectl 1.35 and 1.36 `run -i` read the running container's log, print it, then attach: a
command that writes after that read and ends before the attach arrives would otherwise print
nothing at all (Kubernetes' kubelet refuses that attach and kubectl prints the log once more,
all of it: kubernetes/kubectl#1848). Only whole-log reads count (no tail, no since, no
timestamps), and a container's record is dropped with the oldest once RECORDS are kept."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import AsyncIterator

from kubelet.runtime.types import ContainerRuntime, LogOptions

RECORDS = 1024  # containers whose served bytes are kept; a node runs at most a few hundred


class LogReads:
    def __init__(self, runtime: ContainerRuntime, records: int = RECORDS) -> None:
        self._runtime = runtime
        self._records = records
        self._served: OrderedDict[str, int] = OrderedDict()

    async def read(self, container_id: str, options: LogOptions) -> AsyncIterator[bytes]:
        """The runtime's log of the container, counted as served if it is the whole log."""
        counted = (
            options.tail_lines is None and options.since_seconds is None and not options.timestamps
        )
        sent = 0
        if counted:
            self._record(container_id, sent)  # an empty read counts: all that follows is unread
        async for chunk in self._runtime.container_logs(container_id, options):
            yield chunk
            if counted:
                sent += len(chunk)
                self._record(container_id, sent)

    async def unread(self, container_id: str) -> bytes:
        """The container's log past the most any whole-log read has served; nothing if none was
        read whole (an attach gives the output from the attach on, which for an ended process
        is none)."""
        served = self._served.get(container_id)
        if served is None:
            return b""
        log = b"".join([c async for c in self._runtime.container_logs(container_id, LogOptions())])
        return log[served:]

    def _record(self, container_id: str, sent: int) -> None:
        self._served[container_id] = max(sent, self._served.get(container_id, 0))
        self._served.move_to_end(container_id)
        while len(self._served) > self._records:
            self._served.popitem(last=False)
