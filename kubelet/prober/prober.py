"""The prober the workers use (prober.go prober.probe): runs a probe through the runtime and the
network, and records an Unhealthy event when it fails."""

from __future__ import annotations

import logging

from kubelet.prober.probes import ProbeError, run_probe
from kubelet.prober.results import ProbeType, Result
from kubelet.prober.worker import probe_of
from kubelet.runtime.types import ContainerRuntime
from podplane.api.core.v1 import core_pb2
from podplane.client.events import WARNING, EventRecorder

log = logging.getLogger(__name__)


class RuntimeProber:
    def __init__(self, runtime: ContainerRuntime, recorder: EventRecorder | None = None) -> None:
        self.runtime = runtime
        self.recorder = recorder

    async def probe(
        self,
        probe_type: ProbeType,
        pod: core_pb2.Pod,
        container: core_pb2.Container,
        container_id: str,
        pod_ip: str,
    ) -> Result:
        spec = probe_of(container, probe_type)
        if spec is None:
            return Result.SUCCESS
        try:
            outcome = await run_probe(self.runtime, spec, container, container_id, pod_ip)
        except ProbeError as e:
            self._event(pod, f"{probe_type.value} probe errored: {e}")
            raise
        if outcome.result == Result.FAILURE:
            log.info(
                "%s probe of %s/%s %s failed: %s",
                probe_type.value,
                pod.metadata.namespace,
                pod.metadata.name,
                container.name,
                outcome.output.strip(),
            )
            self._event(pod, f"{probe_type.value} probe failed: {outcome.output}")
        return outcome.result

    def _event(self, pod: core_pb2.Pod, message: str) -> None:
        if self.recorder is not None:
            self.recorder.record(pod, WARNING, "Unhealthy", message)
