"""A DaemonSet's history (kubernetes pkg/controller/daemon/update.go constructHistory, snapshot,
dedupCurHistories, cleanupHistory, Match, getPatch): one ControllerRevision per pod template,
named <daemonset>-<template hash> and labelled controller-revision-hash=<hash>, whose data is
the strategic merge patch that puts the template back ({"spec":{"template":{..., "$patch":
"replace"}}}, what `kubectl rollout undo` sends). The current template's revision is renumbered
above every other when the DaemonSet returns to it; old ones beyond revisionHistoryLimit go,
unless pods still run them."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable

from controller.daemon.placement import REVISION_HASH_LABEL
from controller.framework.controller_ref import new_controller_ref
from controller.framework.hashing import template_hash
from controller.history.history import History
from controller.history.revision import next_revision, revisions_to_prune, same_data
from podplane.api.apps.v1 import apps_pb2
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import codec, resources
from podplane.apimachinery.json_types import JSONValue
from podplane.apimachinery.selectors import LabelSelector
from podplane.client.clientset import Client, is_already_exists

log = logging.getLogger(__name__)

Revision = apps_pb2.ControllerRevision

# What Go's encoding/json escapes that Python's json does not.
_GO_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028"}
_GO_ESCAPES["\u2029"] = "\\u2029"


class HashCollision(RuntimeError):
    """Another template's revision holds this template's name: the collision count was raised
    and the next pass names it anew."""


def go_json(value: JSONValue) -> str:
    """Compact JSON with sorted keys, as Go's json.Marshal writes a map."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    for char, escaped in _GO_ESCAPES.items():
        text = text.replace(char, escaped)
    return text


def template_patch(ds: apps_pb2.DaemonSet) -> str:
    """getPatch: the strategic merge patch that replaces the DaemonSet's pod template with the
    current one."""
    template = codec.encode(ds.spec.template)
    template["$patch"] = "replace"
    return go_json({"spec": {"template": template}})


def matches(ds: apps_pb2.DaemonSet, revision: Revision) -> bool:
    """Match: the revision holds the DaemonSet's template."""
    return same_data(template_patch(ds), revision.data)


def revision_hash(ds: apps_pb2.DaemonSet) -> str:
    """ComputeHash of the template and the collision count."""
    return template_hash(ds.spec.template, _collisions(ds))


def _collisions(ds: apps_pb2.DaemonSet) -> int | None:
    return ds.status.collision_count if ds.status.HasField("collision_count") else None


def current_hash(revision: Revision) -> str:
    return revision.metadata.labels.get(REVISION_HASH_LABEL, revision.metadata.name)


class DaemonSetHistory:
    """The revisions of DaemonSets, over the shared History."""

    def __init__(self, client: Client, history: History) -> None:
        self.client = client
        self.history = history

    async def construct(
        self, ds: apps_pb2.DaemonSet, selector: LabelSelector, pods: Iterable[core_pb2.Pod]
    ) -> tuple[Revision, list[Revision]]:
        """constructHistory: (the revision of the current template, created or renumbered as
        needed; the old ones)."""
        meta = ds.metadata
        claimed = await self.history.claim_revisions(
            ds,
            resources.DAEMON_SET,
            selector,
            lambda: self.client.daemonsets.get(meta.name, meta.namespace),
        )
        current: list[Revision] = []
        old: list[Revision] = []
        for r in claimed:
            if REVISION_HASH_LABEL not in r.metadata.labels:
                # Older revisions are labelled with their name (a hash that cannot collide).
                labelled = Revision()
                labelled.CopyFrom(r)
                labelled.metadata.labels[REVISION_HASH_LABEL] = labelled.metadata.name
                r = await self.history.api.update(labelled)
            (current if matches(ds, r) else old).append(r)
        number = next_revision(old)
        if not current:
            return await self._snapshot(ds, number), old
        cur = await self._dedup(ds, current, pods)
        if cur.revision < number:
            cur = await self.history.update_revision(cur, number)
        return cur, old

    async def _dedup(
        self, ds: apps_pb2.DaemonSet, current: list[Revision], pods: Iterable[core_pb2.Pod]
    ) -> Revision:
        """dedupCurHistories: of several revisions of the current template, the highest stays;
        the pods of the others are relabelled to it first."""
        if len(current) == 1:
            return current[0]
        keep = max(current, key=lambda r: r.revision)
        keep_hash = current_hash(keep)
        for pod in pods:
            if pod.metadata.labels.get(REVISION_HASH_LABEL) != keep_hash:
                relabelled = core_pb2.Pod()
                relabelled.CopyFrom(pod)
                relabelled.metadata.labels[REVISION_HASH_LABEL] = keep_hash
                await self.client.pods.update(relabelled)
        for r in current:
            if r.metadata.name != keep.metadata.name:
                await self.history.delete_revision(r)
        return keep

    async def _snapshot(self, ds: apps_pb2.DaemonSet, number: int) -> Revision:
        """snapshot: the current template's revision, created; a name taken by another template
        raises the DaemonSet's collision count (and fails this pass)."""
        hash_ = revision_hash(ds)
        revision = Revision(data=template_patch(ds), revision=number)
        meta = revision.metadata
        meta.name = f"{ds.metadata.name}-{hash_}"
        meta.namespace = ds.metadata.namespace
        meta.labels.update(ds.spec.template.metadata.labels)
        meta.labels[REVISION_HASH_LABEL] = hash_
        meta.annotations.update(ds.metadata.annotations)
        meta.owner_references.append(new_controller_ref(ds, resources.DAEMON_SET))
        try:
            return await self.history.api.create(revision)
        except Exception as e:
            if not is_already_exists(e):
                raise
        existing = await self.history.api.get(meta.name, meta.namespace)
        if matches(ds, existing):
            return existing
        live = await self.client.daemonsets.get(ds.metadata.name, ds.metadata.namespace)
        if _collisions(live) != _collisions(ds):
            raise HashCollision(
                f"found a stale collision count ({_collisions(ds)}, expected "
                f"{_collisions(live)}) of DaemonSet {ds.metadata.name!r} while "
                "processing; will retry until it is updated"
            )
        live.status.collision_count = live.status.collision_count + 1
        await self.client.daemonsets.update_status(live)
        log.info(
            "hash collision for DaemonSet %s/%s: collisionCount now %d",
            ds.metadata.namespace,
            ds.metadata.name,
            live.status.collision_count,
        )
        raise HashCollision(f'controllerrevisions.apps "{meta.name}" already exists')

    async def cleanup(
        self, ds: apps_pb2.DaemonSet, old: list[Revision], pods: Iterable[core_pb2.Pod]
    ) -> None:
        """cleanupHistory: the oldest old revisions beyond revisionHistoryLimit, but for those
        whose hash a pod (finished ones included) still carries."""
        live_hashes = {h for p in pods if (h := p.metadata.labels.get(REVISION_HASH_LABEL))}
        limit = ds.spec.revision_history_limit if ds.spec.HasField("revision_history_limit") else 10
        for r in revisions_to_prune(old, limit, lambda r: current_hash(r) in live_hashes):
            await self.history.delete_revision(r)
