"""The API Priority and Fairness configuration consumer (apf_controller.go, Kubernetes 1.31): the
filter's configuration follows the FlowSchema and PriorityLevelConfiguration objects. Their watch
caches' changes enqueue one key; its reconcile digests every object (apiserver/flowcontrol/
digest.py), hands the result to the filter, whose next request uses it, and writes the Dangling
condition of each schema whose condition is not yet the right one, through the status
subresource, as api-priority-and-fairness-config-consumer-v1 (Kubernetes applies it server-side;
here an update of the status with the other conditions kept)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Coroutine, Iterable, Mapping
from typing import Protocol

from apiserver import errors
from apiserver.flowcontrol.digest import digest
from apiserver.flowcontrol.max_inflight import MaxInflight
from apiserver.flowcontrol.priority_and_fairness import PriorityAndFairness
from apiserver.registry.apiextensions.loop import DefinitionLoop
from apiserver.registry.cacher import Cacher
from apiserver.registry.flowcontrol.ensurer import ConfigProducer
from apiserver.registry.generic.managed_fields import Manager
from apiserver.registry.generic.store import Store
from podplane.api.flowcontrol.v1 import flowcontrol_pb2 as fc
from podplane.apimachinery import flowcontrol, timeutil

log = logging.getLogger(__name__)

FIELD_MANAGER = "api-priority-and-fairness-config-consumer-v1"
_KEY = "configuration"
CONSUMER_HOOKS = ("priority-and-fairness-config-consumer", "priority-and-fairness-filter")
PRODUCER_HOOK = "priority-and-fairness-config-producer"


class PostStartHooks(Protocol):
    """The server's post-start hooks (apiserver.endpoints.health)."""

    async def run(self, name: str, hook: Awaitable[object]) -> None: ...

    def done(self, *names: str) -> None: ...


class SchemaCache(Protocol):
    """The FlowSchemas' watch cache: its objects by key."""

    @property
    def objects(self) -> Mapping[bytes, fc.FlowSchema]: ...


class LevelCache(Protocol):
    @property
    def objects(self) -> Mapping[bytes, fc.PriorityLevelConfiguration]: ...


class SchemaStatusWriter(Protocol):
    async def update_status(
        self, obj: fc.FlowSchema, cached: fc.FlowSchema | None = None, *, manager: Manager = ...
    ) -> fc.FlowSchema: ...


class ConfigConsumer:
    """A CacheObserver of both kinds' caches."""

    def __init__(
        self,
        apf: PriorityAndFairness,
        schemas: SchemaCache,
        levels: LevelCache,
        schema_status: SchemaStatusWriter,
    ) -> None:
        self.apf = apf
        self.schemas = schemas
        self.levels = levels
        self.schema_status = schema_status
        self.loop = DefinitionLoop("apf-config-consumer", self._reconcile)

    def changed(self, prev: object, obj: object) -> None:
        self.loop.enqueue(_KEY)

    def replaced(self, objects: Iterable[object]) -> None:
        self.loop.enqueue(_KEY)

    def sync(self) -> list[tuple[fc.FlowSchema, fc.FlowSchemaCondition]]:
        """The objects' configuration into the filter, at once; the conditions to write."""
        meal = digest(
            list(self.levels.objects.values()), list(self.schemas.objects.values()), timeutil.now()
        )
        self.apf.reconfigure(meal.levels, meal.schemas)
        return meal.conditions

    async def _reconcile(self, key: str) -> float | None:
        for schema, condition in self.sync():
            written = fc.FlowSchema()
            written.CopyFrom(schema)
            kept = [c for c in schema.status.conditions if c.type != flowcontrol.CONDITION_DANGLING]
            del written.status.conditions[:]
            written.status.conditions.extend([*kept, condition])
            try:
                await self.schema_status.update_status(
                    written, schema, manager=Manager(field_manager=FIELD_MANAGER)
                )
            except errors.APIError as e:
                if e.reason != "NotFound":  # deleted meanwhile: its event is coming
                    raise
        return None

    async def run(self) -> None:
        await self.loop.run()


class FlowControlConfiguration:
    """Both loops over the flowcontrol objects' caches: the producer, which keeps Kubernetes'
    bootstrap objects in the API (apiserver/registry/flowcontrol/ensurer.py), and, with API
    Priority and Fairness on, the consumer, which makes the filter follow them."""

    def __init__(
        self,
        apf: PriorityAndFairness | None,
        cachers: Mapping[str, object],
        stores: Mapping[str, object],
    ) -> None:
        """`cachers` and `stores`: the server's, by plural (of every kind, so of no one type)."""
        schemas, levels = cachers["flowschemas"], cachers["prioritylevelconfigurations"]
        schema_store, level_store = stores["flowschemas"], stores["prioritylevelconfigurations"]
        assert isinstance(schemas, Cacher) and isinstance(levels, Cacher)
        assert isinstance(schema_store, Store) and isinstance(level_store, Store)
        self.producer = ConfigProducer(schemas, schema_store, levels, level_store)
        self.consumer = ConfigConsumer(apf, schemas, levels, schema_store) if apf else None
        for cache in (schemas, levels):
            cache.observers.append(self.producer)
            if self.consumer is not None:
                cache.observers.append(self.consumer)

    async def start(self, hooks: PostStartHooks, timeout: float) -> None:
        """Once the caches are ready: the filter on the objects' configuration at once, then
        the bootstrap objects ensured (retried until they are, or `timeout`)."""
        if self.consumer is not None:
            self.consumer.sync()
        hooks.done(*CONSUMER_HOOKS)
        await hooks.run(PRODUCER_HOOK, self._ensure_until_done(timeout))

    async def _ensure_until_done(self, timeout: float) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            try:
                await self.producer.ensure()
                return
            except errors.APIError as e:
                if asyncio.get_running_loop().time() >= deadline:
                    raise RuntimeError(f"unable to ensure the APF bootstrap objects: {e}") from e
                log.warning("APF bootstrap configuration: %s; retrying", e.message)
                await asyncio.sleep(1.0)

    def loops(self) -> list[Coroutine[None, None, None]]:
        loops = [self.producer.run()]
        if self.consumer is not None:
            loops.append(self.consumer.run())
        return loops


def flow_control(
    seats: int,
    max_inflight: MaxInflight,
    request_wait_limit: float | None,
    storage: tuple[Mapping[str, object], Mapping[str, object]],
) -> tuple[PriorityAndFairness | MaxInflight, FlowControlConfiguration]:
    """The server's flow control and the loops over the flowcontrol objects: API Priority and
    Fairness over `seats` when it has a `request_wait_limit` (--enable-priority-and-fairness)
    and seats, else the max-in-flight guard."""
    on = request_wait_limit is not None and seats > 0
    apf = PriorityAndFairness(seats, request_wait_limit) if request_wait_limit and on else None
    return apf or max_inflight, FlowControlConfiguration(apf, *storage)
