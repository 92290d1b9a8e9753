"""Keeps a pod with scheduling gates out of the active queue until its last gate is removed
(kubernetes plugins/schedulinggates): the pod is never tried, so it gets no FailedScheduling
event; its PodScheduled=False SchedulingGated condition is the apiserver's, written at creation.
The queue lets an update of the pod through PreEnqueue again, which lets it in once ungated."""

from __future__ import annotations

from podplane.api.core.v1 import core_pb2
from scheduler.framework.interfaces import PluginArgs
from scheduler.framework.status import SUCCESS, Status

NAME = "SchedulingGates"


class SchedulingGates:
    name = NAME

    def pre_enqueue(self, pod: core_pb2.Pod) -> Status:
        if not pod.spec.scheduling_gates:
            return SUCCESS
        gates = " ".join(g.name for g in pod.spec.scheduling_gates)
        return Status.unresolvable(f"waiting for scheduling gates: [{gates}]")


def new(args: PluginArgs) -> SchedulingGates:
    return SchedulingGates()
