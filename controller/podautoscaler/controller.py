"""The horizontal pod autoscaler controller (kubernetes pkg/controller/podautoscaler
horizontal.go): every sync period (15 s) each HorizontalPodAutoscaler's target is read through
its scale subresource, its metrics turned into a replica count (compute.py over the replica
calculator and the resource metrics API), the count stabilized and limited (normalize.py), the
target's scale written when it changes, with a SuccessfulRescale event, and the autoscaler's
status (replicas, current metrics, last scale time, the AbleToScale, ScalingActive and
ScalingLimited conditions) written when it changes.

As in Kubernetes an autoscaler is looked at again a sync period after each look, whatever the
outcome (a failure is said in the conditions and a Warning event, not retried sooner), and
handlers add a key after the sync period too, so a status write does not start a look at once.
The recommendations and scale events the stabilization and the policies read are kept in
memory (history.py): a new leader starts without them."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from controller.framework.manager import ControllerOptions
from controller.framework.reconciler import ReconcileLoop
from controller.podautoscaler import normalize
from controller.podautoscaler.compute import Computed, compute_replicas_for_metrics
from controller.podautoscaler.convert import behavior_of, pod_info
from controller.podautoscaler.history import ScalingHistory
from controller.podautoscaler.metrics_client import ResourceMetricsClient
from controller.podautoscaler.normalize import ABLE_TO_SCALE, SCALING_ACTIVE, Condition
from controller.podautoscaler.pods import PodInfo
from controller.podautoscaler.replica_calculator import ReplicaCalculator, Tuning
from controller.podautoscaler.scale_client import Mapping, MappingError, Scale, ScaleClient
from controller.podautoscaler.selector import Selector
from controller.podautoscaler.status import HPA, keep_desired, set_condition, set_status
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import resources
from podplane.apimachinery.selectors import SelectorError
from podplane.client.clientset import Client, is_not_found, user_agent
from podplane.client.events import NORMAL, WARNING, EventRecorder
from podplane.client.informer import NAMESPACE_INDEX, Informer, namespace_of, object_key
from podplane.client.informer_factory import SharedInformerFactory
from podplane.client.rest import RestClient

log = logging.getLogger(__name__)

COMPONENT = "horizontal-pod-autoscaler"  # the source of its events, as Kubernetes names it
DEFAULT_SYNC_PERIOD = 15.0
DEFAULT_DOWNSCALE_STABILIZATION = 300.0
DEFAULT_WORKERS = 5  # --concurrent-horizontal-pod-autoscaler-syncs


def horizontal_controller(
    client: Client, informers: SharedInformerFactory, options: ControllerOptions
) -> HorizontalController:
    """The controller as the controller-manager makes it from its flags: the REST door at
    --rest-server, with the manager's credentials."""
    rest = RestClient(
        options.rest_server, client.credentials, agent=user_agent("kube-controller-manager")
    )
    return HorizontalController(
        client,
        informers,
        rest,
        sync_period=options.hpa_sync_period,
        downscale_stabilization=options.hpa_downscale_stabilization,
        tuning=Tuning(
            options.hpa_tolerance,
            options.hpa_cpu_initialization_period,
            options.hpa_initial_readiness_delay,
        ),
    )


class HorizontalController:
    def __init__(
        self,
        client: Client,
        informers: SharedInformerFactory,
        rest: RestClient,
        *,
        sync_period: float = DEFAULT_SYNC_PERIOD,
        downscale_stabilization: float = DEFAULT_DOWNSCALE_STABILIZATION,
        tuning: Tuning | None = None,
        workers: int = DEFAULT_WORKERS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.rest = rest
        self.hpa_api = client.for_resource(resources.HORIZONTAL_POD_AUTOSCALER)
        self.scales = ScaleClient(rest)
        self.sync_period = sync_period
        self.downscale_stabilization = downscale_stabilization
        self.clock = clock
        self.history = ScalingHistory()
        self.hpas: Informer[HPA] = informers.informer_for(resources.HORIZONTAL_POD_AUTOSCALER)
        self.pods: Informer[core_pb2.Pod] = informers.informer_for(resources.POD)
        self.pods.add_index(NAMESPACE_INDEX, namespace_of)
        self.calculator = ReplicaCalculator(
            ResourceMetricsClient(rest), self._list_pods, tuning or Tuning(), clock
        )
        # Each autoscaler's target selector, once read (hpaSelectors): pods two select are
        # ambiguous. None until the first look.
        self.selectors: dict[str, Selector | None] = {}
        self.recorder = EventRecorder(client, COMPONENT)
        self.loop = ReconcileLoop(
            "horizontalpodautoscaler",
            self.reconcile,
            informers,
            [self.hpas, self.pods],
            workers=workers,
        )
        self.hpas.add_handler(
            on_add=self._enqueue,
            on_update=lambda _old, new: self._enqueue(new),
            on_delete=self._on_delete,
        )

    async def run(self) -> None:
        try:
            await self.loop.run()
        finally:
            await self.rest.close()

    # ------------------------------------------------------------------ handlers: enqueue only
    def _enqueue(self, hpa: HPA) -> None:
        key = object_key(hpa)
        self.selectors.setdefault(key, None)
        self.loop.queue.add_after(key, self.sync_period)

    def _on_delete(self, hpa: HPA) -> None:
        self.selectors.pop(object_key(hpa), None)

    # ------------------------------------------------------------------ pods
    def _list_pods(self, namespace: str, selector: Selector) -> list[PodInfo]:
        return [
            pod_info(p)
            for p in self.pods.by_index(NAMESPACE_INDEX, namespace)
            if selector.parsed.matches(p.metadata.labels)
        ]

    # ------------------------------------------------------------------ reconcile
    async def reconcile(self, key: str) -> float | None:
        shared = self.hpas.get(key)
        if shared is None:
            log.info("Horizontal Pod Autoscaler %s has been deleted", key)
            self.history.forget(key)
            return None
        hpa = HPA()
        hpa.CopyFrom(shared)  # the cache's object is shared: change a copy
        try:
            await self.reconcile_autoscaler(hpa, key)
        except Exception as e:  # noqa: BLE001 - said in the status and events; looked at again
            log.warning("horizontal-pod-autoscaler: %s: %s", key, e)
        return self.sync_period

    def _record(self, hpa: HPA) -> Callable[[str, str, str], None]:
        return lambda type_, reason, message: self.recorder.record(hpa, type_, reason, message)

    async def _get_scale(self, hpa: HPA, original: HPA, reference: str) -> tuple[Mapping, Scale]:
        """The target's resource and Scale; a failure is said in AbleToScale and raised."""
        ref = hpa.spec.scale_target_ref
        try:
            mapping = await self.scales.mapping(ref.api_version, ref.kind)
            scale = await self.scales.get(mapping, hpa.metadata.namespace, ref.name)
        except Exception as e:
            await self._failed_get_scale(hpa, original, e)
            if isinstance(e, MappingError):
                raise RuntimeError(
                    f"unable to determine resource for scale target reference: {e}"
                ) from e
            raise RuntimeError(f"failed to query scale subresource for {reference}: {e}") from e
        return mapping, scale

    async def _failed_get_scale(self, hpa: HPA, original: HPA, error: Exception) -> None:
        self.recorder.record(hpa, WARNING, "FailedGetScale", str(error))
        set_condition(
            hpa,
            Condition(
                ABLE_TO_SCALE,
                "False",
                "FailedGetScale",
                f"the HPA controller was unable to get the target's current scale: {error}",
            ),
        )
        await self._update_status_if_needed(original, hpa)

    async def reconcile_autoscaler(self, hpa: HPA, key: str) -> None:
        """reconcileAutoscaler; raises what Kubernetes returns as the sync's error."""
        original = HPA()
        original.CopyFrom(hpa)
        ref = hpa.spec.scale_target_ref
        namespace = hpa.metadata.namespace
        reference = f"{ref.kind}/{namespace}/{ref.name}"
        mapping, scale = await self._get_scale(hpa, original, reference)
        set_condition(
            hpa,
            Condition(
                ABLE_TO_SCALE,
                "True",
                "SucceededGetScale",
                "the HPA controller was able to get the target's current scale",
            ),
        )
        current = scale.spec_replicas
        now = self.clock()
        self.history.record_initial_recommendation(key, current, now)
        min_replicas = hpa.spec.min_replicas if hpa.spec.HasField("min_replicas") else 1
        max_replicas = hpa.spec.max_replicas
        computed = Computed(replicas=0, statuses=[])
        desired, reason, rescale, error = 0, "", True, None
        if current == 0 and min_replicas != 0:
            rescale = False  # autoscaling is disabled for this target
            set_condition(
                hpa,
                Condition(
                    SCALING_ACTIVE,
                    "False",
                    "ScalingDisabled",
                    "scaling is disabled since the replica count of the target is zero",
                ),
            )
        elif current > max_replicas:
            reason, desired = "Current number of replicas above Spec.MaxReplicas", max_replicas
        elif current < min_replicas:
            reason, desired = "Current number of replicas below Spec.MinReplicas", min_replicas
        else:
            computed = await self._compute(hpa, scale)
            if computed.replicas == -1:
                keep_desired(hpa, current, computed.statuses)
                await self._update_status_if_needed(original, hpa)
                self.recorder.record(
                    hpa, WARNING, "FailedComputeMetricsReplicas", computed.error or ""
                )
                raise RuntimeError(
                    "failed to compute desired number of replicas based on listed metrics for "
                    f"{reference}: {computed.error}"
                )
            error = computed.error  # scaled on the metrics that worked, reported at the end
            desired, reason = self._proposed(hpa, key, computed, current, min_replicas, now)
            rescale = desired != current

        if rescale:
            try:
                await self.scales.update(mapping, namespace, scale.with_replicas(desired))
            except Exception as e:
                self.recorder.record(
                    hpa,
                    WARNING,
                    "FailedRescale",
                    f"New size: {desired}; reason: {reason}; error: {e}",
                )
                set_condition(
                    hpa,
                    Condition(
                        ABLE_TO_SCALE,
                        "False",
                        "FailedUpdateScale",
                        f"the HPA controller was unable to update the target scale: {e}",
                    ),
                )
                keep_desired(hpa, current, computed.statuses)
                await self._update_status_if_needed(original, hpa)
                raise RuntimeError(f"failed to rescale {reference}: {e}") from e
            set_condition(
                hpa,
                Condition(
                    ABLE_TO_SCALE,
                    "True",
                    "SucceededRescale",
                    f"the HPA controller was able to update the target scale to {desired}",
                ),
            )
            self.recorder.record(
                hpa, NORMAL, "SuccessfulRescale", f"New size: {desired}; reason: {reason}"
            )
            self.history.store_scale_event(behavior_of(hpa.spec), key, current, desired, now)
            log.info("Successfully rescaled %s from %d to %d: %s", key, current, desired, reason)
        else:
            desired = current
        set_status(hpa, current, desired, computed.statuses, rescale)
        await self._update_status_if_needed(original, hpa)
        if error:
            raise RuntimeError(error)

    def _proposed(
        self, hpa: HPA, key: str, computed: Computed, current: int, min_replicas: int, now: float
    ) -> tuple[int, str]:
        """The metrics' count, stabilized and limited, and the reason a rescale gives."""
        desired, reason = max(computed.replicas, 0), ""
        if desired > current:
            reason = f"{computed.metric if computed.replicas > 0 else ''} above target"
        if desired < current:
            reason = "All metrics below target"
        normalized = self._normalize(hpa, key, current, desired, min_replicas, now)
        for condition in normalized.conditions:
            set_condition(hpa, condition)
        return normalized.replicas, reason

    def _normalize(
        self, hpa: HPA, key: str, current: int, desired: int, min_replicas: int, now: float
    ) -> normalize.Normalized:
        behavior = behavior_of(hpa.spec)
        if behavior is None:
            return normalize.normalize_desired_replicas(
                self.history,
                key,
                current,
                desired,
                min_replicas,
                hpa.spec.max_replicas,
                self.downscale_stabilization,
                now,
            )
        return normalize.normalize_desired_replicas_with_behaviors(
            self.history,
            key,
            behavior,
            current,
            desired,
            min_replicas,
            hpa.spec.max_replicas,
            self.downscale_stabilization,
            now,
        )

    async def _compute(self, hpa: HPA, scale: Scale) -> Computed:
        """computeReplicasForMetrics, after validateAndParseSelector."""
        selector = self._validate_selector(hpa, scale.selector)
        if isinstance(selector, str):
            return Computed(replicas=-1, error=selector)
        return await compute_replicas_for_metrics(
            self.calculator, hpa, scale.spec_replicas, selector, self._record(hpa)
        )

    def _invalid_selector(self, hpa: HPA, event: str, reason: str, error: str, message: str) -> str:
        self.recorder.record(hpa, WARNING, event, error)
        set_condition(hpa, Condition(SCALING_ACTIVE, "False", reason, message))
        return error

    def _validate_selector(self, hpa: HPA, text: str) -> Selector | str:
        """validateAndParseSelector: a selector, well formed, whose pods no other autoscaler
        scales; else the error, said in an event and the ScalingActive condition."""
        if not text:
            return self._invalid_selector(
                hpa,
                "SelectorRequired",
                "InvalidSelector",
                "selector is required",
                "the HPA target's scale is missing a selector",
            )
        try:
            selector = Selector.parse(text)
        except SelectorError as e:
            error = f"couldn't convert selector into a corresponding internal selector object: {e}"
            return self._invalid_selector(hpa, "InvalidSelector", "InvalidSelector", error, error)
        key = object_key(hpa)
        if key in self.selectors:
            self.selectors[key] = selector
        namespace = hpa.metadata.namespace
        controlling: set[str] = set()
        for pod in self.pods.by_index(NAMESPACE_INDEX, namespace):
            if not selector.parsed.matches(pod.metadata.labels):
                continue
            for other, theirs in self.selectors.items():
                if (
                    theirs is not None
                    and other.split("/", 1)[0] == namespace
                    and theirs.parsed.matches(pod.metadata.labels)
                ):
                    controlling.add(other)
        if len(controlling) > 1:
            names = " ".join(
                "{" + k.split("/", 1)[1] + " " + namespace + "}" for k in sorted(controlling)
            )
            error = f"pods by selector {text} are controlled by multiple HPAs: [{names}]"
            return self._invalid_selector(
                hpa, "AmbiguousSelector", "AmbiguousSelector", error, error
            )
        return selector

    async def _update_status_if_needed(self, original: HPA, hpa: HPA) -> None:
        if original.status == hpa.status:
            return
        try:
            await self.hpa_api.update_status(hpa)
        except Exception as e:
            if is_not_found(e):
                return
            self.recorder.record(hpa, WARNING, "FailedUpdateStatus", str(e))
            raise RuntimeError(f"failed to update status for {hpa.metadata.name}: {e}") from e
