"""The probe manager (prober_manager.go): starts a worker per probe of each pod's app containers
and sidecars, keeps the results, and turns them into containerStatuses[].started and .ready (and
the sidecars' initContainerStatuses) and into the containers to kill for a failed liveness or
startup probe."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from kubelet.prober.prober import RuntimeProber
from kubelet.prober.results import ProbeType, Result, ResultsCache
from kubelet.prober.worker import Prober, ProbeWorker, probe_of, runtime_id
from kubelet.runtime.types import ContainerRuntime, ContainerStatus
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery.sidecars import sidecars
from podplane.client.events import EventRecorder

WorkerKey = tuple[str, str, ProbeType]  # pod uid, container name, probe type


@dataclass(frozen=True)
class Unhealthy:
    """A running container a failed probe condemns."""

    probe_type: ProbeType
    message: str


class ProbeManager:
    def __init__(
        self,
        runtime: ContainerRuntime,
        on_change: Callable[[str], None],
        recorder: EventRecorder | None = None,
        prober: Prober | None = None,
        clock: Callable[[], float] = time.time,
        start_workers: bool = True,
    ) -> None:
        self.results = {t: ResultsCache(on_change) for t in ProbeType}
        self.prober = prober or RuntimeProber(runtime, recorder)
        self.clock = clock
        # Off in unit tests, which step the workers themselves (ProbeWorker.do_probe).
        self.start_workers = start_workers
        self.workers: dict[WorkerKey, ProbeWorker] = {}
        self._statuses: dict[str, tuple[core_pb2.Pod, core_pb2.PodStatus]] = {}

    def status_of(self, uid: str) -> tuple[core_pb2.Pod, core_pb2.PodStatus] | None:
        return self._statuses.get(uid)

    def add_pod(self, pod: core_pb2.Pod) -> None:
        """Starts the workers of the pod's probes that do not run yet."""
        uid = pod.metadata.uid
        for container in (*sidecars(pod.spec), *pod.spec.containers):
            for probe_type in ProbeType:
                spec = probe_of(container, probe_type)
                key = (uid, container.name, probe_type)
                if spec is None or key in self.workers:
                    continue
                worker = ProbeWorker(
                    probe_type,
                    pod,
                    container,
                    spec,
                    self.results[probe_type],
                    self.prober,
                    self.status_of,
                    self.clock,
                )
                self.workers[key] = worker
                if self.start_workers:
                    worker.start()

    def remove_pod(self, uid: str) -> None:
        for key in [k for k in self.workers if k[0] == uid]:
            self.workers.pop(key).stop()
        self._statuses.pop(uid, None)

    def keep_only(self, pod_key: str, uid: str) -> None:
        """Stops the workers of other pods of that key (deleted, or replaced by a new uid)."""
        for worker in list(self.workers.values()):
            if worker.pod_key == pod_key and worker.pod.metadata.uid != uid:
                self.remove_pod(worker.pod.metadata.uid)

    def observe(self, pod: core_pb2.Pod, status: core_pb2.PodStatus) -> None:
        """The status the kubelet generated: what the workers probe next. A worker whose
        container was replaced probes the new one at once."""
        uid = pod.metadata.uid
        self._statuses[uid] = (pod, status)
        ids = {
            s.name: runtime_id(s.container_id)
            for s in (*status.init_container_statuses, *status.container_statuses)
        }
        for (worker_uid, name, _), worker in self.workers.items():
            if worker_uid == uid and ids.get(name) and ids[name] != worker.container_id:
                worker.trigger()

    def _result(self, probe_type: ProbeType, container_id: str) -> Result | None:
        return self.results[probe_type].get(container_id)

    def apply(self, pod: core_pb2.Pod, statuses: Sequence[core_pb2.ContainerStatus]) -> None:
        """Sets started and ready of the running containers from the probe results
        (UpdatePodStatus). A container without a startup probe has started when it runs; one without
        a readiness probe is ready once started."""
        uid = pod.metadata.uid
        for s in statuses:
            if not s.state.HasField("running"):
                continue
            cid = runtime_id(s.container_id)
            startup = self._result(ProbeType.STARTUP, cid)
            if startup is not None:
                s.started = startup == Result.SUCCESS
            else:
                s.started = (uid, s.name, ProbeType.STARTUP) not in self.workers
            if not s.started:
                s.ready = False
                continue
            readiness = self._result(ProbeType.READINESS, cid)
            worker = self.workers.get((uid, s.name, ProbeType.READINESS))
            if readiness is not None and worker is not None:
                s.ready = readiness == Result.SUCCESS
            else:
                s.ready = worker is None
            if worker is not None and readiness != Result.SUCCESS:
                worker.trigger()  # probe now rather than at the next period

    def started(self, pod: core_pb2.Pod, container: ContainerStatus) -> bool:
        """Whether a running container has started: it has no startup probe, or that probe has
        succeeded on this very instance."""
        if (pod.metadata.uid, container.name, ProbeType.STARTUP) not in self.workers:
            return True
        return self._result(ProbeType.STARTUP, container.id) == Result.SUCCESS

    def unhealthy(self, pod: core_pb2.Pod, container: ContainerStatus) -> Unhealthy | None:
        """Whether a failed liveness or startup probe says the container must be killed."""
        for probe_type in (ProbeType.LIVENESS, ProbeType.STARTUP):
            if self._result(probe_type, container.id) == Result.FAILURE:
                return Unhealthy(
                    probe_type,
                    f"Container {container.name} failed {probe_type.value.lower()} probe",
                )
        return None
