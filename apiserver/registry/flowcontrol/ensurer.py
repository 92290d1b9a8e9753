"""The API Priority and Fairness configuration producer (kubernetes pkg/registry/flowcontrol/
ensurer and rest/storage_flowcontrol.go, 1.31): Kubernetes' bootstrap FlowSchemas and
PriorityLevelConfigurations (apiserver/flowcontrol/bootstrap.py) kept in the API.

- A missing bootstrap object is created, mandatory or suggested.
- A mandatory one (exempt, catch-all) always gets its bootstrap spec back (the exempt level's
  `spec.exempt` excepted, which an operator may tune) and the annotation
  apf.kubernetes.io/autoupdate-spec "true".
- A suggested one is updated to its bootstrap spec only while that annotation says true (or,
  without a boolean there, while its generation is 1: nobody has edited it); the annotation is
  set to what was decided. "false" keeps an operator's edits.
- An object that is not Kubernetes' bootstrap one but says autoupdate-spec "true" (one a past
  version made) is deleted.

It runs once the caches are ready (retried until it succeeds, as the
priority-and-fairness-config-producer post-start hook), then every minute, as Kubernetes does,
and at once when a bootstrap object is deleted or changed, so a deleted catch-all comes back in
moments rather than a minute."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Protocol, TypeVar

from apiserver import errors
from apiserver.defaulting import flowcontrol as defaulting
from apiserver.registry.apiextensions.loop import DefinitionLoop
from apiserver.registry.generic.managed_fields import Manager
from podplane.api.flowcontrol.v1 import flowcontrol_pb2 as fc
from podplane.apimachinery import flowcontrol
from podplane.apimachinery import flowcontrol_bootstrap as bootstrap

log = logging.getLogger(__name__)

FIELD_MANAGER = "api-priority-and-fairness-config-producer-v1"
MANAGER = Manager(field_manager=FIELD_MANAGER)
RESYNC_SECONDS = 60.0
_KEY = "bootstrap"

Obj = TypeVar("Obj", fc.FlowSchema, fc.PriorityLevelConfiguration)


class ObjectCache(Protocol[Obj]):
    """A watch cache of one kind (the cacher): its objects and a read by name."""

    def peek(self, namespace: str, name: str) -> Obj | None: ...

    @property
    def objects(self) -> dict[bytes, Obj]: ...


class ObjectStore(Protocol[Obj]):
    async def create(self, obj: Obj, *, manager: Manager | None = ...) -> Obj: ...

    async def update(
        self, obj: Obj, cached: Obj | None = None, *, manager: Manager = ...
    ) -> Obj: ...

    async def delete(self, namespace: str, name: str) -> Obj: ...


def parse_bool(value: str) -> bool | None:
    """Go's strconv.ParseBool; None where it fails."""
    if value in ("1", "t", "T", "TRUE", "true", "True"):
        return True
    if value in ("0", "f", "F", "FALSE", "false", "False"):
        return False
    return None


def _auto_update_spec(current: fc.FlowSchema | fc.PriorityLevelConfiguration) -> bool:
    """shouldUpdateSpec: the annotation's boolean; without one, whether nobody has edited the
    spec (generation 1)."""
    said = parse_bool(current.metadata.annotations.get(flowcontrol.AUTO_UPDATE_ANNOTATION, ""))
    return said if said is not None else current.metadata.generation == 1


def _wanted_spec(boot: Obj, current: Obj) -> Obj:
    """The bootstrap object's spec, defaulted, as `current` should have it: the exempt level
    keeps its `spec.exempt`."""
    wanted = type(boot)()
    wanted.CopyFrom(boot)
    if isinstance(wanted, fc.PriorityLevelConfiguration):
        defaulting.priority_level(wanted)
        assert isinstance(current, fc.PriorityLevelConfiguration)
        if wanted.metadata.name == flowcontrol.PRIORITY_LEVEL_EXEMPT and current.spec.HasField(
            "exempt"
        ):
            wanted.spec.exempt.CopyFrom(current.spec.exempt)
    else:
        defaulting.flow_schema(wanted)
    return wanted


def updated(current: Obj, boot: Obj, mandatory: bool) -> Obj | None:
    """What `current` should become (ensureStrategy.ShouldUpdate), or None if it is fine."""
    auto = True if mandatory else _auto_update_spec(current)
    said = parse_bool(current.metadata.annotations.get(flowcontrol.AUTO_UPDATE_ANNOTATION, ""))
    update_annotation = said != auto
    wanted = _wanted_spec(boot, current)
    spec_changed = auto and wanted.spec != current.spec
    if not (update_annotation or spec_changed):
        return None
    new = type(current)()
    new.CopyFrom(current)
    if update_annotation:
        new.metadata.annotations[flowcontrol.AUTO_UPDATE_ANNOTATION] = "true" if auto else "false"
    if spec_changed:
        new.spec.CopyFrom(wanted.spec)
    return new


async def _ensure(
    cache: ObjectCache[Obj], store: ObjectStore[Obj], boots: Iterable[Obj], mandatory: bool
) -> None:
    for boot in boots:
        name = boot.metadata.name
        current = cache.peek("", name)
        if current is None:
            try:
                await store.create(boot, manager=MANAGER)
                log.info("created %s %s", type(boot).__name__, name)
            except errors.APIError as e:
                if e.reason != "AlreadyExists":
                    raise
            continue
        new = updated(current, boot, mandatory)
        if new is not None:
            await store.update(new, current, manager=MANAGER)
            log.info(
                "updated %s %s to Kubernetes' bootstrap configuration", type(boot).__name__, name
            )


async def _remove_unwanted(
    cache: ObjectCache[Obj], store: ObjectStore[Obj], wanted: set[str]
) -> None:
    for obj in list(cache.objects.values()):
        name = obj.metadata.name
        value = obj.metadata.annotations.get(flowcontrol.AUTO_UPDATE_ANNOTATION)
        if name in wanted or value is None or parse_bool(value) is not True:
            continue
        try:
            await store.delete("", name)
            log.info("deleted %s %s: not in the bootstrap configuration", type(obj).__name__, name)
        except errors.APIError as e:
            if e.reason != "NotFound":
                raise


class ConfigProducer:
    """A CacheObserver of both kinds' caches: a change to a bootstrap object's name runs the
    ensurer."""

    def __init__(
        self,
        schemas: ObjectCache[fc.FlowSchema],
        schema_store: ObjectStore[fc.FlowSchema],
        levels: ObjectCache[fc.PriorityLevelConfiguration],
        level_store: ObjectStore[fc.PriorityLevelConfiguration],
        resync: float = RESYNC_SECONDS,
    ) -> None:
        self.schemas, self.schema_store = schemas, schema_store
        self.levels, self.level_store = levels, level_store
        self.resync = resync
        self.schema_names = {
            o.metadata.name
            for o in (*bootstrap.mandatory_flow_schemas(), *bootstrap.suggested_flow_schemas())
        }
        self.level_names = {
            o.metadata.name
            for o in (
                *bootstrap.mandatory_priority_levels(),
                *bootstrap.suggested_priority_levels(),
            )
        }
        self.loop = DefinitionLoop("apf-config-producer", self._reconcile)

    def changed(
        self,
        prev: fc.FlowSchema | fc.PriorityLevelConfiguration | None,
        obj: fc.FlowSchema | fc.PriorityLevelConfiguration | None,
    ) -> None:
        which = obj if obj is not None else prev
        if which is None:
            return
        names = self.schema_names if isinstance(which, fc.FlowSchema) else self.level_names
        if which.metadata.name in names:
            self.loop.enqueue(_KEY)

    def replaced(self, objects: Iterable[fc.FlowSchema | fc.PriorityLevelConfiguration]) -> None:
        self.loop.enqueue(_KEY)

    async def ensure(self) -> None:
        """One pass: suggested, then mandatory, then the unwanted removed (ensure())."""
        await _ensure(self.levels, self.level_store, bootstrap.suggested_priority_levels(), False)
        await _ensure(self.schemas, self.schema_store, bootstrap.suggested_flow_schemas(), False)
        await _ensure(self.levels, self.level_store, bootstrap.mandatory_priority_levels(), True)
        await _ensure(self.schemas, self.schema_store, bootstrap.mandatory_flow_schemas(), True)
        await _remove_unwanted(self.schemas, self.schema_store, self.schema_names)
        await _remove_unwanted(self.levels, self.level_store, self.level_names)

    async def _reconcile(self, key: str) -> float | None:
        await self.ensure()
        return self.resync

    async def run(self) -> None:
        self.loop.enqueue(_KEY)
        await self.loop.run()
