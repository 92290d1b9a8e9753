"""What a create or update of a DaemonSet changes before validation (kubernetes
pkg/registry/apps/daemonset/strategy.go PrepareForCreate, PrepareForUpdate): status is the
controller's; the template generation, which apps/v1 carries as the
`deprecated.daemonset.template.generation` annotation, starts at 1 and is the server's to raise,
by one whenever the pod template changes (the generation itself follows any spec change, as for
every kind with a spec)."""

from __future__ import annotations

import re
from collections.abc import Mapping

from podplane.api.apps.v1 import apps_pb2

TEMPLATE_GENERATION_ANNOTATION = "deprecated.daemonset.template.generation"
_INTEGER = re.compile(r"[+-]?[0-9]+")


def template_generation(annotations: Mapping[str, str]) -> tuple[int | None, str | None]:
    """The template generation the annotation holds (None when absent), or why it does not parse
    (strconv.ParseInt's words, as the apps/v1 conversion reports them)."""
    value = annotations.get(TEMPLATE_GENERATION_ANNOTATION)
    if value is None:
        return None, None
    if not _INTEGER.fullmatch(value):
        return None, f'strconv.ParseInt: parsing "{value}": invalid syntax'
    if not -(2**63) <= int(value) < 2**63:
        return None, f'strconv.ParseInt: parsing "{value}": value out of range'
    return int(value), None


def prepare_for_create(obj: apps_pb2.DaemonSet) -> None:
    obj.ClearField("status")
    generation, problem = template_generation(obj.metadata.annotations)
    if problem is None and (generation is None or generation < 1):
        # A value that does not parse is left for validation to refuse.
        obj.metadata.annotations[TEMPLATE_GENERATION_ANNOTATION] = "1"


def prepare_for_update(new: apps_pb2.DaemonSet, old: apps_pb2.DaemonSet) -> None:
    _, problem = template_generation(new.metadata.annotations)
    if problem is not None:
        return  # the request's value does not parse: refused by validation, as by Kubernetes
    generation = template_generation(old.metadata.annotations)[0] or 0
    if new.spec.template != old.spec.template:
        generation += 1
    new.metadata.annotations[TEMPLATE_GENERATION_ANNOTATION] = str(generation)
