"""What a workload does around its measured pods, as scheduler_perf's ops do around its measured
createPods: the first phase (the preemption workloads' low-priority pods, the unschedulable
workload's pods that fit nowhere), the churn beside the measured pods (mixed-churn,
preemption-async), and, once they are bound, what became of the other pods: the init pods left
unbound, the preemptors bound, the victims deleted. Those that break a constraint count as
violations, as a measured pod bound where it does not fit does."""

from __future__ import annotations

from bench.common.progress import Progress
from bench.scheduler.churn import PreemptorChurn, RecreateChurn
from bench.scheduler.fill import create_unschedulable_init, fill_for_preemption
from bench.scheduler.hollow_kubelet import HollowKubelet
from bench.scheduler.workloads import FILLED_WORKLOADS
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery.json_types import JSONObject
from podplane.client.clientset import Client


class WorkloadPhases:
    def __init__(
        self,
        client: Client,
        namespace: str,
        run_id: str,
        workload: str,
        nodes: int,
        pods: int,
    ) -> None:
        self.client, self.namespace, self.run_id = client, namespace, run_id
        self.workload, self.nodes, self.pods = workload, nodes, pods
        self.measured = pods
        self.kubelet: HollowKubelet | None = None
        self.init_pods: list[str] = []
        self.churn: RecreateChurn | PreemptorChurn | None = None
        if workload == "mixed-churn":
            self.churn = RecreateChurn(client, namespace, run_id, nodes, workload)
        elif workload == "preemption-async":
            self.churn = PreemptorChurn(client, namespace, run_id)

    @property
    def needs_scheduler_first(self) -> bool:
        """Whether the first phase needs a scheduler (the nodes are filled through it)."""
        return self.workload in FILLED_WORKLOADS

    async def prepare(self, timeout: float, progress: Progress) -> int:
        """The first phase; returns the pods to measure."""
        if self.workload in FILLED_WORKLOADS:
            self.measured, self.kubelet = await fill_for_preemption(
                self.client,
                self.namespace,
                self.run_id,
                self.nodes,
                self.pods,
                timeout,
                progress,
                self.workload,
            )
        elif self.workload == "unschedulable":
            self.init_pods = await create_unschedulable_init(
                self.client, self.namespace, self.run_id, progress
            )
        return self.measured

    def start_churn(self) -> None:
        if self.churn is not None:
            self.churn.start()

    async def stop(self) -> None:
        """Stops the churn and the hollow kubelet (what the churn made stays until clean_up)."""
        if self.churn is not None:
            await self.churn.stop()
        if self.kubelet is not None:
            await self.kubelet.stop()

    async def clean_up(self) -> None:
        if isinstance(self.churn, RecreateChurn):
            await self.churn.clean_up()

    async def report(self) -> tuple[JSONObject, int]:
        """The result's entries on the pods beside the measured ones, and the violations among
        them (an init pod or mixed-churn's 9-cpu pod bound)."""
        out: JSONObject = {}
        violations = 0
        if not (self.init_pods or self.churn or self.kubelet):
            return out, violations
        listed, _ = await self.client.pods.list_all(self.namespace, page_size=2000)
        by_name = {p.metadata.name: p for p in listed}
        if self.init_pods:
            init = [by_name[n] for n in self.init_pods if n in by_name]
            bound = sum(bool(p.spec.node_name) for p in init)
            violations += bound
            out["init_pods"] = {
                "created": len(self.init_pods),
                "bound": bound,
                "marked_unschedulable": sum(_marked_unschedulable(p) for p in init),
            }
        if self.churn is not None:
            out["churn"] = self.churn.report()
        if isinstance(self.churn, RecreateChurn):
            violations += self.churn.churn_pod_bound
        low = self.pods - self.measured
        if self.workload == "preemption" and self.kubelet is not None:
            # Each preemptor evicts 3 of the 4 low-priority pods on its node.
            out["preemption"] = {
                "low_priority_pods": low,
                "victims_deleted": self.kubelet.finished,
                "victims_expected": 3 * self.measured,
                "deletion_errors": self.kubelet.errors,
            }
        elif isinstance(self.churn, PreemptorChurn) and self.kubelet is not None:
            # The victims: low-priority pods, or measured ones (also priority 0).
            out["preemption"] = {
                "low_priority_pods": low,
                "preemptors_created": self.churn.created,
                "preemptors_bound": sum(
                    bool(p.spec.node_name)
                    for name, p in by_name.items()
                    if name.startswith("preemptor-")
                ),
                "victims_deleted": self.kubelet.finished,
                "deletion_errors": self.kubelet.errors,
            }
        return out, violations


def _marked_unschedulable(pod: core_pb2.Pod) -> bool:
    return any(c.type == "PodScheduled" and c.status == "False" for c in pod.status.conditions)
