"""One probe of one container of one pod, run every periodSeconds (pkg/kubelet/prober/worker.go).

The worker reads the container's state from the pod status the kubelet last generated. A new
container instance (a new id) starts over from the probe type's initial result. A result is only
recorded after successThreshold successes or failureThreshold failures in a row; a failed liveness
or startup probe then holds the worker until the container is replaced. Liveness and readiness
wait for the startup probe: they run only once the container has started."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Protocol

from kubelet.prober import metrics as prober_metrics
from kubelet.prober.probes import ProbeError
from kubelet.prober.results import INITIAL_RESULT, ProbeType, Result, ResultsCache
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import timeutil
from podplane.apimachinery.sidecars import is_sidecar

log = logging.getLogger(__name__)
DEFAULT_PERIOD_SECONDS = 10
DEFAULT_SUCCESS_THRESHOLD = 1
DEFAULT_FAILURE_THRESHOLD = 3

# The pod as last synced and the status the kubelet generated for it, by pod uid.
StatusSource = Callable[[str], "tuple[core_pb2.Pod, core_pb2.PodStatus] | None"]


def runtime_id(container_id: str) -> str:
    """The runtime's own id of a containerStatuses[].containerID (docker://<id>)."""
    return container_id.split("://", 1)[-1]


class Prober(Protocol):
    async def probe(
        self,
        probe_type: ProbeType,
        pod: core_pb2.Pod,
        container: core_pb2.Container,
        container_id: str,
        pod_ip: str,
    ) -> Result:
        """Runs the probe once; raises ProbeError when it could not be run."""
        ...


def probe_of(container: core_pb2.Container, probe_type: ProbeType) -> core_pb2.Probe | None:
    field = {
        ProbeType.LIVENESS: "liveness_probe",
        ProbeType.READINESS: "readiness_probe",
        ProbeType.STARTUP: "startup_probe",
    }[probe_type]
    probe: core_pb2.Probe = getattr(container, field)
    return probe if container.HasField(field) else None


class ProbeWorker:
    def __init__(
        self,
        probe_type: ProbeType,
        pod: core_pb2.Pod,
        container: core_pb2.Container,
        spec: core_pb2.Probe,
        results: ResultsCache,
        prober: Prober,
        status_of: StatusSource,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.probe_type = probe_type
        self.pod = pod
        self.container = container
        self.spec = spec
        self.results = results
        self.prober = prober
        self.status_of = status_of
        self.clock = clock
        self.pod_key = f"{pod.metadata.namespace}/{pod.metadata.name}"
        self.container_id = ""
        self.on_hold = False
        self.last_result = Result.UNKNOWN
        self.result_run = 0
        # Seconds until the initial delay ends, when that is what the last step waited for.
        self.delay_left: float | None = None
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def period(self) -> float:
        return float(self.spec.period_seconds or DEFAULT_PERIOD_SECONDS)

    @property
    def success_threshold(self) -> int:
        return int(self.spec.success_threshold or DEFAULT_SUCCESS_THRESHOLD)

    @property
    def failure_threshold(self) -> int:
        return int(self.spec.failure_threshold or DEFAULT_FAILURE_THRESHOLD)

    def trigger(self) -> None:
        """Probes at once instead of at the next period (e.g. a new container appeared)."""
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(
            self.run(),
            name=f"probe-{self.probe_type.value.lower()}-{self.pod_key}/{self.container.name}",
        )

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
        if self.container_id:
            self.results.remove(self.container_id)

    async def run(self) -> None:
        while await self._step():
            wait = self.period if self.delay_left is None else min(self.period, self.delay_left)
            try:
                async with asyncio.timeout(max(wait, 0.05)):
                    await self._wake.wait()
            except TimeoutError:
                pass
            self._wake.clear()
        log.debug(
            "%s probe of %s/%s stops", self.probe_type.value, self.pod_key, self.container.name
        )

    async def _step(self) -> bool:
        try:
            return await self.do_probe()
        except Exception:  # a bug must not end the probing of the container for good
            log.exception(
                "%s probe of %s/%s failed unexpectedly",
                self.probe_type.value,
                self.pod_key,
                self.container.name,
            )
            return True

    async def do_probe(self) -> bool:
        """One step; False when the worker has nothing more to do (the pod finished, ...)."""
        self.delay_left = None
        found = self.status_of(self.pod.metadata.uid)
        if found is None:
            return True
        pod, status = found
        if status.phase in ("Succeeded", "Failed"):
            return False
        c = next(
            (
                s
                for s in (*status.container_statuses, *status.init_container_statuses)
                if s.name == self.container.name
            ),
            None,
        )
        if c is None or not c.container_id:
            return True
        container_id = runtime_id(c.container_id)
        if container_id != self.container_id:
            if self.container_id:
                self.results.remove(self.container_id)
            self.container_id = container_id
            self.results.set(self.container_id, INITIAL_RESULT[self.probe_type], self.pod_key)
            self.on_hold = False  # a new container: probe it afresh
            self.result_run = 0
            self.last_result = Result.UNKNOWN
        if self.on_hold:
            return True
        if not c.state.HasField("running"):
            self.results.set(self.container_id, Result.FAILURE, self.pod_key)
            # A container that will not be restarted needs no more probing (a sidecar always is).
            return (
                not c.state.HasField("terminated")
                or pod.spec.restart_policy != "Never"
                or is_sidecar(self.container)
            )
        if pod.metadata.deletion_timestamp and self.probe_type != ProbeType.READINESS:
            # The pod is going away: no liveness kill may race its graceful termination.
            self.results.set(self.container_id, Result.SUCCESS, self.pod_key)
            return False
        started_at = timeutil.parse(c.state.running.started_at)
        if started_at is not None:
            running_for = self.clock() - started_at.timestamp()
            if running_for < self.spec.initial_delay_seconds:
                self.delay_left = self.spec.initial_delay_seconds - running_for
                return True
        if c.started:
            if self.probe_type == ProbeType.STARTUP:
                return True  # started: the startup probe is done with this container
        elif self.probe_type != ProbeType.STARTUP:
            return True  # liveness and readiness wait for the startup probe
        try:
            result = await self.prober.probe(
                self.probe_type, pod, self.container, self.container_id, status.pod_ip
            )
        except ProbeError as e:
            log.debug(
                "%s probe of %s/%s errored: %s",
                self.probe_type.value,
                self.pod_key,
                self.container.name,
                e,
            )
            return True  # no result: nothing is counted
        prober_metrics.count(self.probe_type, result, pod, self.container.name)
        if result == self.last_result:
            self.result_run += 1
        else:
            self.last_result = result
            self.result_run = 1
        if (result == Result.FAILURE and self.result_run < self.failure_threshold) or (
            result == Result.SUCCESS and self.result_run < self.success_threshold
        ):
            return True
        self.results.set(self.container_id, result, self.pod_key)
        if self.probe_type != ProbeType.READINESS and result == Result.FAILURE:
            # The container will be killed: nothing to probe until its replacement runs.
            self.on_hold = True
            self.result_run = 0
        return True
