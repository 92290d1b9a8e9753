"""Level-triggered pod sync: compare a desired Pod with what the runtime reports, act, report status
(kubelet.go SyncPod + kuberuntime_manager.go SyncPod). One call per pod key at a time.

PodSyncer.sync is the README's Pod flow, steps 10 and 11, in order: admit the pod, kill what must
stop, publish ContainerCreating, mount the volumes, run the sandbox, start the init containers,
then the app containers (each pulling its image: start_container.py), the ephemeral ones, and
report the status."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from kubelet.admission.admitter import PodAdmitter, rejected_status
from kubelet.container.backoff import Backoff
from kubelet.container.crash_loop import crash_loop_back_off
from kubelet.container.env import PodContext
from kubelet.container.images import ImagePuller
from kubelet.container.security_profiles import NodeSecurity
from kubelet.container.service_env import ServiceLister
from kubelet.network.dns import DNSConfigurer
from kubelet.pod.actions import PodActions, compute_pod_actions
from kubelet.pod.ephemeral_containers import EphemeralContainerStarter
from kubelet.pod.sandbox import PodCIDRCheck, SandboxStarter, pod_ip, remove_old_sandboxes
from kubelet.pod.start_container import (
    ContainerNode,
    ContainerStarter,
    StartSpec,
)
from kubelet.pod.termination import (
    EventSink,
    kill_unhealthy,
    pod_grace_period,
    remove_pod,
    stop_pod,
)
from kubelet.prober.manager import ProbeManager
from kubelet.runtime.types import (
    ContainerRuntime,
    ContainerRuntimeError,
    ContainerState,
    ContainerStatus,
    DNSConfig,
    RuntimePod,
)
from kubelet.runtimeclass.manager import RuntimeClassManager
from kubelet.status.generate import generate_pod_status
from kubelet.status.manager import StatusManager
from kubelet.status.phase import TERMINAL_PHASES
from kubelet.volume.pod_volumes import PodVolumes, VolumeError, VolumeNotReady
from kubelet.volume.remount import Remounter
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import timeutil
from podplane.apimachinery.sidecars import sidecar_names
from podplane.client.events import WARNING, EventRecorder

log = logging.getLogger(__name__)
# How soon to try again to mount a volume that could not be (a claim not bound yet).
MOUNT_RETRY_SECONDS = 3.0
# A volume whose set-up failed (a configMap or secret not there yet, a token refused) is tried
# again as the volume manager's operations are (nestedpendingoperations' exponential back-off):
# after 0.5 s, doubling, at most 2m2s apart.
SET_UP_RETRY_INITIAL = 0.5
SET_UP_RETRY_MAXIMUM = 122.0


@dataclass(frozen=True)
class NodeContext:
    node_name: str
    host_ip: str
    pause_image: str = "podplane/pause:3.9"
    pod_cidr: str = ""
    allocatable: Mapping[str, str] = field(default_factory=dict)
    # The pods' FQDNs (subdomain, setHostnameAsFQDN) end in it.
    cluster_domain: str = ""
    # Where Localhost seccomp profiles are, and whether the runtime's default is the default.
    security: NodeSecurity = field(default_factory=NodeSecurity)


class _Requeue:
    def __init__(self) -> None:
        self.after: float | None = None

    def at(self, seconds: float) -> None:
        seconds = max(seconds, 0.1)
        self.after = seconds if self.after is None else min(self.after, seconds)


class PodSyncer:
    """Converges each pod on the node to its spec, one sync per pod key at a time (the pod workers
    see to that)."""

    def __init__(
        self,
        runtime: ContainerRuntime,
        volumes: PodVolumes,
        status: StatusManager,
        node: NodeContext,
        images: ImagePuller | None = None,
        crash_backoff: Backoff | None = None,
        recorder: EventRecorder | None = None,
        probes: ProbeManager | None = None,
        admitter: PodAdmitter | None = None,
        dns: DNSConfigurer | None = None,
        services: ServiceLister | None = None,
        runtime_classes: RuntimeClassManager | None = None,
        relisted: Callable[[str], ContainerStatus | None] | None = None,
    ) -> None:
        self.runtime = runtime
        # A container (by id) as the PLEG's last relist found it; None: report what runs now.
        self.relisted = relisted
        self.volumes = volumes
        self.status = status
        self.node = node
        self.images = images or ImagePuller(runtime)
        self.crash_backoff = crash_backoff or Backoff()
        # By pod uid: the back-off of its volumes' set-up.
        self.set_up_backoff = Backoff(SET_UP_RETRY_INITIAL, SET_UP_RETRY_MAXIMUM)
        self.recorder = recorder
        self.probes = probes
        self.admitter = admitter
        # The pods' resolv.conf (None: the runtime's default).
        self.dns = dns
        # Why a container that should run does not: (reason, message) by (pod uid, container).
        self.reasons: dict[tuple[str, str], tuple[str, str]] = {}
        # Running pods' configMap, secret, downwardAPI and projected volumes, kept up to date.
        self.remounter = Remounter(
            volumes, lambda pod, message: self._event(pod, WARNING, "FailedMount", message)
        )
        self.runtime_classes = runtime_classes or RuntimeClassManager(runtime)
        self.sandboxes = SandboxStarter(
            runtime, self.runtime_classes, node.pause_image, node.cluster_domain, self._event
        )
        # Every container starts here; the Services' variables go into its environment.
        self.starter = ContainerStarter(
            runtime,
            volumes,
            self.images,
            self._event,
            services,
            ContainerNode(node.security, node.cluster_domain, self.runtime_classes),
        )
        self.ephemeral = EphemeralContainerStarter(volumes, self.starter, self.reasons)
        self.pod_cidr = PodCIDRCheck(node.pod_cidr)

    async def sync(self, key: str, pod: core_pb2.Pod | None) -> float | None:
        """Converges one pod; returns when to look again (a back-off ending), if ever."""
        pods = await self.runtime_pods(key)
        uid = pod.metadata.uid if pod is not None else ""
        await self._remove_all_but(key, uid, pods)
        if pod is None:
            return None
        pod = self.status.with_latest_status(pod)
        rp = pods.get(uid, RuntimePod())
        if not await self._admit(key, pod, rp):
            return None
        actions, rp = await self._kill_what_must_stop(key, pod, rp)
        requeue = _Requeue()
        if actions.create_sandbox:
            await self._publish_container_creating(pod, rp)
        to_start = actions.init_containers_to_start + actions.containers_to_start
        sandbox_error: Exception | None = None
        if actions.create_sandbox or to_start:
            try:
                await self._start(pod, rp, actions, to_start, requeue)
            except (ContainerRuntimeError, VolumeError) as e:
                sandbox_error = e  # raised once the status says what it can
                log.warning("pod %s: %s", key, e)
            rp = await self._refresh(key, uid)
        elif rp.ready_sandboxes() and not pod.metadata.deletion_timestamp:
            await self.remounter.remount(pod)
        ctx = self._pod_context(pod_ip(pod, rp, self.node.host_ip))
        if await self.ephemeral.start_new(pod, rp, ctx, requeue.at):
            rp = await self._refresh(key, uid)
        await remove_old_sandboxes(self.runtime, rp)
        rp = await self._report_status(key, pod, rp)
        if sandbox_error is not None:
            raise sandbox_error
        if pod.metadata.deletion_timestamp and not (rp.running() or rp.ready_sandboxes()):
            await self.status.delete_terminated(pod)
        return requeue.after

    # ------------------------------------------------------------------ the steps, in order
    async def _remove_all_but(self, key: str, uid: str, pods: dict[str, RuntimePod]) -> None:
        """Whatever runs under the pod key with another uid goes (an earlier pod of the same
        name, or one no longer wanted here), with its probes."""
        for other_uid, other in pods.items():
            if other_uid != uid:
                await self.remove_pod(other_uid, other)
        if self.probes is not None:
            self.probes.keep_only(key, uid)

    async def _admit(self, key: str, pod: core_pb2.Pod, rp: RuntimePod) -> bool:
        """Whether the pod may run here: one that has not started must fit beside those already
        taken, else it fails at once. A finished pod is not admitted again, nor probed."""
        if pod.status.phase in TERMINAL_PHASES or pod.metadata.deletion_timestamp:
            return True
        if self.admitter is not None:
            rejection = self.admitter.admit(pod, started=not rp.empty)
            if rejection is not None:
                log.info("pod %s rejected: %s", key, rejection.message)
                self._event(pod, WARNING, rejection.reason, rejection.message)
                await self.status.set_status(pod, rejected_status(pod, rejection))
                return False
        if self.probes is not None:
            self.probes.add_pod(pod)
        return True

    async def _kill_what_must_stop(
        self, key: str, pod: core_pb2.Pod, rp: RuntimePod
    ) -> tuple[PodActions, RuntimePod]:
        """The pod's actions (actions.py), after killing the containers that failed their
        liveness or startup probe and, when it is done or needs a new sandbox, the whole pod."""
        unhealthy, started = self._health_check(pod), self._started_check(pod)
        actions = compute_pod_actions(pod, rp, unhealthy, started)
        if actions.containers_to_kill:
            ip = pod_ip(pod, rp, self.node.host_ip)
            sink = self._event_sink(pod)
            await kill_unhealthy(self.runtime, pod, ip, actions.containers_to_kill, sink)
            rp = await self._refresh(key, pod.metadata.uid)
            actions = compute_pod_actions(pod, rp, unhealthy, started)
        if actions.kill_pod:
            if not actions.create_sandbox:
                # The pod is done: its sidecars are not waiting to be restarted any more.
                self._forget_reasons(pod.metadata.uid, sidecar_names(pod.spec))
            await self._stop(pod, rp)
            rp = await self._refresh(key, pod.metadata.uid)
        return actions, rp

    async def _publish_container_creating(self, pod: core_pb2.Pod, rp: RuntimePod) -> None:
        """As the kubelet's SyncPod does: publish the status as it stands before acting, so a new
        pod shows ContainerCreating while its sandbox and containers are set up."""
        await self.status.set_status(pod, self._status(pod, rp))

    async def _start(
        self,
        pod: core_pb2.Pod,
        rp: RuntimePod,
        actions: PodActions,
        to_start: list[core_pb2.Container],
        requeue: _Requeue,
    ) -> None:
        """Mounts the volumes, runs a new sandbox if asked, then starts the containers in order
        (the init containers' turn, else the app containers)."""
        uid = pod.metadata.uid
        waiting = self.set_up_backoff.remaining_since_update(uid)
        if waiting > 0:  # as nestedpendingoperations: no retry before the back-off ends
            requeue.at(waiting)
            return
        try:
            paths = await self.volumes.setup(pod)
        except VolumeError as e:
            # As the kubelet waiting for its volumes to attach and mount: the containers stay
            # ContainerCreating, and the pod's events say why.
            for c in to_start:
                self.reasons.pop((uid, c.name), None)
            self._event(pod, WARNING, "FailedMount", str(e))
            if isinstance(e, VolumeNotReady):
                requeue.at(MOUNT_RETRY_SECONDS)
            else:
                self.set_up_backoff.next(uid)
                requeue.at(self.set_up_backoff.duration(uid))
            return
        self.set_up_backoff.forget(uid)
        if actions.create_sandbox:
            await self.sandboxes.start(pod, actions.sandbox_attempt, self._pod_dns(pod))
            rp = await self._refresh(f"{pod.metadata.namespace}/{pod.metadata.name}", uid)
        sandbox = rp.latest_sandbox()
        if sandbox is None or not sandbox.ready:
            raise ContainerRuntimeError("the pod sandbox is not running")
        if not pod.spec.host_network:
            self.pod_cidr.check(sandbox.ip)
        ctx = self._pod_context(self.node.host_ip if pod.spec.host_network else sandbox.ip)
        for container in to_start:
            await self._start_container(pod, container, rp, sandbox.id, paths, ctx, requeue)

    async def _start_container(
        self,
        pod: core_pb2.Pod,
        container: core_pb2.Container,
        rp: RuntimePod,
        sandbox_id: str,
        paths: dict[str, str],
        ctx: PodContext,
        requeue: _Requeue,
    ) -> None:
        """An app, init or sidecar container's next instance, once its crash-loop back-off (if
        any) has run out."""
        uid, name = pod.metadata.uid, container.name
        instances = rp.instances(name)
        restart_count = instances[0].restart_count + 1 if instances else 0
        if instances and instances[0].state == ContainerState.CREATED:
            # Created but never started (the kubelet stopped in between): replace it.
            restart_count = instances[0].restart_count
            await self.runtime.remove_container(instances[0].id)
            instances = instances[1:]
        if instances and instances[0].state == ContainerState.EXITED:
            wait = crash_loop_back_off(self.crash_backoff, pod, name, instances[0])
            if wait is not None:
                self.reasons[(uid, name)] = ("CrashLoopBackOff", wait.message)
                self._event(pod, WARNING, "BackOff", wait.event_message)
                requeue.at(wait.remaining)
                return
        # The newest dead instance stays, for `logs --previous`.
        remove_first = [old.id for old in instances[1:]]
        spec = StartSpec(container, restart_count=restart_count, remove_first=remove_first)
        failure = await self.starter.start(pod, spec, rp, sandbox_id, paths, ctx)
        if failure is not None:
            self.reasons[(uid, name)] = (failure.reason, failure.message)
            requeue.at(failure.retry_after)
            return
        self.reasons.pop((uid, name), None)
        log.info(
            "pod %s/%s: started container %s (restart %d)",
            pod.metadata.namespace,
            pod.metadata.name,
            name,
            restart_count,
        )

    async def _report_status(self, key: str, pod: core_pb2.Pod, rp: RuntimePod) -> RuntimePod:
        """Writes the pod's status as Kubernetes computes it; a pod that has just finished first
        stops what still runs (a finished pod keeps no sandbox). What runs afterwards."""
        status = self._status(pod, self._relisted(rp))
        if status.phase in TERMINAL_PHASES and (rp.running() or rp.ready_sandboxes()):
            await self._stop(pod, rp)
            rp = await self._refresh(key, pod.metadata.uid)
            done = core_pb2.Pod()
            done.CopyFrom(pod)
            done.status.CopyFrom(status)
            status = self._status(done, rp)
        await self.status.set_status(pod, status)
        if self.probes is not None:
            self.probes.observe(pod, status)
        return rp

    # ------------------------------------------------------------------ what the runtime has
    async def runtime_pods(self, key: str) -> dict[str, RuntimePod]:
        """What the runtime has for the pod key, by pod uid (a recreated pod has a new uid)."""
        sandboxes, containers = await asyncio.gather(
            self.runtime.list_pod_sandboxes(), self.runtime.list_containers()
        )
        pods: dict[str, RuntimePod] = {}
        for s in sandboxes:
            if s.pod.key == key:
                pods.setdefault(s.pod.uid, RuntimePod()).sandboxes.append(s)
        for c in containers:
            if c.pod.key == key:
                pods.setdefault(c.pod.uid, RuntimePod()).containers.append(c)
        return pods

    async def _refresh(self, key: str, uid: str) -> RuntimePod:
        return (await self.runtime_pods(key)).get(uid, RuntimePod())

    async def remove_pod(self, uid: str, rp: RuntimePod) -> None:
        """Everything of a pod that is no longer wanted here: containers, sandbox, directory."""
        if not rp.empty:
            log.info("removing pod uid %s (%d containers)", uid, len(rp.containers))
        await remove_pod(self.runtime, rp)
        await self.volumes.teardown(uid)
        self.forget(uid)

    def forget(self, uid: str) -> None:
        if self.probes is not None:
            self.probes.remove_pod(uid)
        if self.admitter is not None:
            self.admitter.forget(uid)
        self.status.forget(uid)
        self.crash_backoff.forget(uid)
        self.set_up_backoff.forget(uid)
        self.images.backoff.forget(uid)
        self._forget_reasons(uid)
        self.remounter.forget(uid)

    def _forget_reasons(self, uid: str, names: set[str] | None = None) -> None:
        """Why the pod's containers (or only the named ones) wait: nothing, from now on."""
        for key in [k for k in self.reasons if k[0] == uid and (names is None or k[1] in names)]:
            del self.reasons[key]

    def _relisted(self, rp: RuntimePod) -> RuntimePod:
        """What the status reports: the containers as the PLEG's last relist found them (the
        kubelet's status comes from the PLEG's cache). A container it did not find started shows
        as not started yet, so a short command that has ended by the relist (within
        RELIST_PERIOD) goes from ContainerCreating to Succeeded without ever showing Running;
        one it found running shows running until a relist finds it ended, so a client that saw
        it running has a relist period to attach (kubelet/server/attach.py, EndedProcess). Were
        an end shown at once, `kubectl run -i` would often attach to a pod completed by then,
        and kubectl 1.35 and 1.36, having printed the log before attaching, print it again
        when the attach is refused (kubernetes/kubectl#1848)."""
        if self.relisted is None:
            return rp
        running = (ContainerState.RUNNING, ContainerState.UNKNOWN)
        shown: list[ContainerStatus] = []
        for c in rp.containers:
            seen = self.relisted(c.id)
            if c.state in running:
                if seen is not None and seen.state != ContainerState.CREATED:
                    shown.append(c)
            elif c.state == ContainerState.EXITED and seen is not None and seen.state in running:
                shown.append(seen)
            else:
                shown.append(c)
        if shown == rp.containers:
            return rp
        return RuntimePod(sandboxes=rp.sandboxes, containers=shown)

    # ------------------------------------------------------------------ what the steps share
    def _status(self, pod: core_pb2.Pod, rp: RuntimePod) -> core_pb2.PodStatus:
        return generate_pod_status(
            pod, rp, self.reasons, self.node.host_ip, timeutil.now(), self._verdicts
        )

    def _pod_context(self, ip: str) -> PodContext:
        """What a container's environment and hooks know of the pod and node."""
        return PodContext(
            pod_ip=ip, host_ip=self.node.host_ip, node_allocatable=self.node.allocatable
        )

    async def _stop(self, pod: core_pb2.Pod, rp: RuntimePod) -> None:
        ip = pod_ip(pod, rp, self.node.host_ip)
        await stop_pod(self.runtime, rp, pod_grace_period(pod), pod, ip, self._event_sink(pod))

    def _event(self, pod: core_pb2.Pod, type_: str, reason: str, message: str) -> None:
        if self.recorder is not None:
            self.recorder.record(pod, type_, reason, message)

    def _event_sink(self, pod: core_pb2.Pod) -> EventSink:
        return lambda type_, reason, message: self._event(pod, type_, reason, message)

    def _pod_dns(self, pod: core_pb2.Pod) -> DNSConfig | None:
        """The sandbox's resolv.conf, by the pod's dnsPolicy and dnsConfig."""
        if self.dns is None:
            return None
        pod_dns = self.dns.pod_dns(pod)
        for reason, message in pod_dns.warnings:
            self._event(pod, WARNING, reason, message)
        return pod_dns.config

    def _verdicts(self, pod: core_pb2.Pod, statuses: Sequence[core_pb2.ContainerStatus]) -> None:
        if self.probes is not None:
            self.probes.apply(pod, statuses)

    def _health_check(
        self, pod: core_pb2.Pod
    ) -> Callable[[ContainerStatus], tuple[str, str] | None] | None:
        probes = self.probes
        if probes is None:
            return None

        def check(c: ContainerStatus) -> tuple[str, str] | None:
            verdict = probes.unhealthy(pod, c)
            return None if verdict is None else (verdict.probe_type.value, verdict.message)

        return check

    def _started_check(self, pod: core_pb2.Pod) -> Callable[[ContainerStatus], bool] | None:
        probes = self.probes
        if probes is None:
            return None
        return lambda c: probes.started(pod, c)
