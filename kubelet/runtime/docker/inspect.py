"""Docker's inspect data of the kubelet's containers, cached while a container's state string is
unchanged (what status needs, exit code and times, only changes with the state), and fetched once
however many listings need it at the same time: the PLEG's relist and every pod worker's sync list
the same containers concurrently, and during a burst of pod starts each of them would otherwise
inspect every new container again."""

from __future__ import annotations

import asyncio
import datetime
import time
from collections.abc import Awaitable, Callable, Iterable

from kubelet.runtime.types import ContainerRuntimeError
from podplane.apimachinery.json_types import JSONObject

Inspect = Callable[[str], Awaitable[JSONObject]]

# Docker records a container's OOM and its exit from two events of containerd, handled one after
# the other (daemon/monitor.go), and the shim sends the OOM from its own watcher of the cgroup: on
# a busy engine the exit can be inspected before the OOM is (0.5 s later was not enough with the
# integration tests in three processes), and a container killed by the OOM killer then reads as
# exit code 137 without OOMKilled. The kubelet reports a terminated state once, so a SIGKILL exit
# is inspected again every OOM_POLL_SECONDS until Docker has the OOM, for OOM_SETTLE_SECONDS at
# most: a container killed otherwise (a stop's SIGKILL) has no OOM to wait for, and no event says
# that none will come.
OOM_SETTLE_SECONDS = 3.0
OOM_POLL_SECONDS = 0.1
_SIGKILL_EXIT = 137


class InspectCache:
    def __init__(self, inspect: Inspect) -> None:
        self._inspect = inspect
        # Container id -> (the state string it was inspected in, its inspect data).
        self._cache: dict[str, tuple[str, JSONObject]] = {}
        # (container id, state) -> the inspect under way for it.
        self._pending: dict[tuple[str, str], asyncio.Future[JSONObject | None]] = {}

    async def get(self, container_id: str, state: str) -> JSONObject | None:
        """The inspect data of a container whose listing showed `state`; None if it is gone."""
        cached = self._cache.get(container_id)
        if cached is not None and cached[0] == state:
            return cached[1]
        key = (container_id, state)
        pending = self._pending.get(key)
        if pending is None:
            pending = self._pending[key] = asyncio.ensure_future(self._fetch(container_id, state))
            pending.add_done_callback(lambda done: self._done(key, done))
        # A cancelled caller leaves the inspect to the others (and the cache).
        return await asyncio.shield(pending)

    def _done(self, key: tuple[str, str], done: asyncio.Future[JSONObject | None]) -> None:
        self._pending.pop(key, None)
        if not done.cancelled():
            done.exception()  # retrieved: callers that went away must not leave it unreported

    async def _fetch(self, container_id: str, state: str) -> JSONObject | None:
        try:
            data = await self._inspect(container_id)
            deadline = time.monotonic() + OOM_SETTLE_SECONDS
            while _killed_without_oom(data) and time.monotonic() < deadline:
                await asyncio.sleep(OOM_POLL_SECONDS)
                data = await self._inspect(container_id)
        except ContainerRuntimeError as e:
            if "no such container" in str(e).lower():
                return None  # removed meanwhile
            raise
        self._cache[container_id] = (state, data)
        return data

    def forget(self, container_id: str) -> None:
        """Drops a container whose state the kubelet has just changed (started, stopped,
        removed): its next listing inspects it afresh."""
        self._cache.pop(container_id, None)

    def forget_missing(self, seen: Iterable[str], belongs: Callable[[JSONObject], bool]) -> None:
        """Drops the containers (those `belongs` selects) a full listing no longer showed."""
        present = set(seen)
        for cid in [
            c for c, (_, data) in self._cache.items() if c not in present and belongs(data)
        ]:
            del self._cache[cid]


def _killed_without_oom(data: JSONObject) -> bool:
    st = data.get("State") or {}
    return (
        st.get("Status") in ("exited", "dead")
        and st.get("ExitCode") == _SIGKILL_EXIT
        and not st.get("OOMKilled")
    )


def starting_view(summary: JSONObject) -> JSONObject:
    """Inspect-shaped data, from its listing, of a container the kubelet is starting right now.
    Docker holds a container's lock for the whole of its start (network setup included, a second
    or more on a busy engine) and an inspect waits for it, while the listing does not: a pod
    worker's or the PLEG's listing must not stall behind other pods' starts. It is a created
    container until its start returns."""
    created = datetime.datetime.fromtimestamp(int(summary.get("Created") or 0), datetime.UTC)
    return {
        "Id": summary["Id"],
        "Created": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "Config": {"Labels": summary.get("Labels") or {}, "Image": summary.get("Image", "")},
        "Image": summary.get("ImageID", ""),
        "State": {"Status": "created"},
        "NetworkSettings": {},
    }
