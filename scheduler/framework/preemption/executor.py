"""The writes that carry out a preemption (kubernetes framework/preemption prepareCandidate and
PreemptPod): each victim gets the DisruptionTarget condition, then is deleted gracefully (its
kubelet stops it within its grace period), and a Preempted event; the pods of lower priority
nominated to the same node lose their nomination, as the room may no longer be theirs."""

from __future__ import annotations

import asyncio
import logging

from podplane.api.core.v1 import core_pb2
from podplane.apimachinery.conditions import set_pod_condition
from podplane.client.clientset import Client, is_not_found
from podplane.client.conflicts import get_same, update_on_conflict
from podplane.client.events import NORMAL
from scheduler.framework.interfaces import FrameworkHandle
from scheduler.framework.preemption.candidates import Candidate
from scheduler.framework.status import SUCCESS, Status
from scheduler.framework.types import pod_priority

log = logging.getLogger(__name__)

DISRUPTION_TARGET = "DisruptionTarget"
REASON_PREEMPTION_BY_SCHEDULER = "PreemptionByScheduler"


def _name(pod: core_pb2.Pod) -> str:
    return f"{pod.metadata.namespace}/{pod.metadata.name}"


class Executor:
    def __init__(self, framework: FrameworkHandle) -> None:
        self._framework = framework

    async def prepare_candidate(self, candidate: Candidate, preemptor: core_pb2.Pod) -> Status:
        """Preempts the candidate's victims (those not already being deleted), all at once; the
        first failure is the answer. Then clears the lower-priority nominations to the node
        (a failure there is only logged)."""
        client = self._framework.client
        if client is None:
            return Status.error("no client to preempt pods with")
        victims = [v for v in candidate.victims if not v.metadata.deletion_timestamp]
        results = await asyncio.gather(
            *(self._preempt_pod(client, candidate.node_name, preemptor, v) for v in victims),
            return_exceptions=True,
        )
        for victim, result in zip(victims, results, strict=True):
            if isinstance(result, BaseException):
                log.error("could not preempt pod %s: %s", _name(victim), result)
                return Status.error(f"preempting pod {_name(victim)}: {result}")
        await self._clear_lower_nominations(client, preemptor, candidate.node_name)
        return SUCCESS

    async def _preempt_pod(
        self, client: Client, node_name: str, preemptor: core_pb2.Pod, victim: core_pb2.Pod
    ) -> None:
        scheduler = preemptor.spec.scheduler_name or self._framework.scheduler_name

        def disruption_target(pod: core_pb2.Pod) -> bool:
            return set_pod_condition(
                pod.status,
                core_pb2.PodCondition(
                    type=DISRUPTION_TARGET,
                    status="True",
                    reason=REASON_PREEMPTION_BY_SCHEDULER,
                    message=f"{scheduler}: preempting to accommodate a higher priority pod",
                ),
            )

        marked = await update_on_conflict(
            victim,
            disruption_target,
            client.pods.update_status,
            lambda p: get_same(client.pods, p),
            what=f"pod {_name(victim)}",
        )
        if marked is None:
            log.info("victim pod %s is already deleted", _name(victim))
            return
        try:
            # Graceful: the victim's own grace period, as any deletion without one.
            await client.pods.delete(
                victim.metadata.name, victim.metadata.namespace, uid=victim.metadata.uid
            )
        except Exception as e:
            if is_not_found(e):
                log.info("victim pod %s is already deleted", _name(victim))
                return
            raise
        log.info(
            "Preemptor pod %s preempted victim pod %s on node %s",
            _name(preemptor),
            _name(victim),
            node_name,
        )
        events = self._framework.events
        if events is not None:
            events.record(
                victim,
                NORMAL,
                "Preempted",
                f"Preempted by pod {preemptor.metadata.uid} on node {node_name}",
                action="Preempting",
            )

    async def _clear_lower_nominations(
        self, client: Client, preemptor: core_pb2.Pod, node_name: str
    ) -> None:
        """Pods of lower priority nominated to the node may no longer fit there: their
        status.nominatedNodeName is cleared, so that they look for room elsewhere sooner."""
        nominator = self._framework.nominator
        if nominator is None:
            return
        priority = pod_priority(preemptor)
        for info in nominator.nominated_pods_for_node(node_name):
            if pod_priority(info.pod) >= priority:
                continue
            try:
                await clear_nominated_node_name(client, info.pod)
            except Exception as e:  # noqa: BLE001 - not critical: the pod is retried anyway
                log.warning("cannot clear the nominatedNodeName of %s: %s", _name(info.pod), e)


async def clear_nominated_node_name(client: Client, pod: core_pb2.Pod) -> None:
    """Sets the pod's status.nominatedNodeName to "" (kubernetes util.ClearNominatedNodeName)."""

    def clear(p: core_pb2.Pod) -> bool:
        if not p.status.nominated_node_name:
            return False
        p.status.nominated_node_name = ""
        return True

    await update_on_conflict(
        pod,
        clear,
        client.pods.update_status,
        lambda p: get_same(client.pods, p),
        what=f"pod {_name(pod)}",
    )
