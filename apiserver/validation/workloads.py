"""Validation of ReplicationController, ReplicaSet and Deployment (kubernetes
pkg/apis/core/validation ValidateReplicationController, pkg/apis/apps/validation)."""

from __future__ import annotations

import re

from apiserver.validation import fields, template
from apiserver.validation.fields import FieldError
from apiserver.validation.generic_rules import immutable, label_selector, nonnegative, shown
from apiserver.validation.meta import object_meta
from podplane.api.apps.v1 import apps_pb2
from podplane.api.core.v1 import core_pb2

STRATEGY_TYPES = ("Recreate", "RollingUpdate")
_PERCENT = re.compile(r"^[0-9]+%$")
PERCENT_MSG = (
    "a valid percent string must be a numeric string followed by an ending '%' "
    "(e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')"
)
NOT_REPLICAS = "cannot be greater than status.replicas"
NOT_READY = "cannot be greater than readyReplicas"

# The spec of a controller that keeps pods running.
ControllerSpec = (
    core_pb2.ReplicationControllerSpec | apps_pb2.ReplicaSetSpec | apps_pb2.DeploymentSpec
)


def _controller_template(
    path: str, spec: ControllerSpec, kind: str, matches: bool | None
) -> list[FieldError]:
    """The template of a controller that keeps pods running: present, selected, restartPolicy
    Always, no activeDeadlineSeconds."""
    if not spec.HasField("template"):
        return [fields.required(path)]
    t = spec.template
    errs = template.template_labels_selected(path, t, matches)
    errs += template.pod_template(path, t)
    errs += template.restart_policy(path, t, ("Always",))
    if t.spec.HasField("active_deadline_seconds"):
        errs.append(
            fields.forbidden(
                f"{path}.spec.activeDeadlineSeconds",
                f"activeDeadlineSeconds in {kind} is not Supported",
            )
        )
    return errs


def _replica_counts(spec: ControllerSpec) -> list[FieldError]:
    return nonnegative("spec.replicas", spec.replicas) + nonnegative(
        "spec.minReadySeconds", spec.min_ready_seconds
    )


# ---------------------------------------------------------------- replication controller


def replication_controller(obj: core_pb2.ReplicationController) -> list[FieldError]:
    spec = obj.spec
    errs = object_meta(obj.metadata, namespaced=True) + _replica_counts(spec)
    if not spec.selector:
        errs.append(fields.required("spec.selector"))
    errs += fields.label_map("spec.selector", spec.selector)
    matches = None
    if spec.selector:
        labels = spec.template.metadata.labels
        matches = all(labels.get(k) == v for k, v in spec.selector.items())
    errs += _controller_template("spec.template", spec, "ReplicationController", matches)
    return errs + replica_status(obj.status)


def replication_controller_update(
    new: core_pb2.ReplicationController, old: core_pb2.ReplicationController
) -> list[FieldError]:
    return replication_controller(new)


# ---------------------------------------------------------------- replica set


def _selector(
    spec: apps_pb2.ReplicaSetSpec | apps_pb2.DeploymentSpec,
) -> tuple[list[FieldError], bool | None]:
    """A required, non-empty LabelSelector; and whether it selects the template's labels."""
    if not spec.HasField("selector"):
        return [fields.required("spec.selector")], None
    errs = label_selector("spec.selector", spec.selector)
    if not spec.selector.match_labels and not spec.selector.match_expressions:
        # Kubernetes says "deployment" for replica sets too.
        errs.append(
            fields.invalid(
                "spec.selector",
                shown(spec.selector),
                "empty selector is invalid for deployment",
            )
        )
        return errs, None
    return errs, template.selector_matches(spec.selector, spec.template.metadata.labels)


def replica_set(obj: apps_pb2.ReplicaSet) -> list[FieldError]:
    spec = obj.spec
    errs = object_meta(obj.metadata, namespaced=True) + _replica_counts(spec)
    selector_errs, matches = _selector(spec)
    errs += selector_errs + _controller_template("spec.template", spec, "ReplicaSet", matches)
    return errs + replica_status(obj.status)


def replica_set_update(new: apps_pb2.ReplicaSet, old: apps_pb2.ReplicaSet) -> list[FieldError]:
    return replica_set(new) + immutable("spec.selector", new.spec.selector, old.spec.selector)


def replica_status(
    status: core_pb2.ReplicationControllerStatus | apps_pb2.ReplicaSetStatus,
) -> list[FieldError]:
    """ReplicationController and ReplicaSet status (ValidateReplicaSetStatus)."""
    errs: list[FieldError] = []
    for name in (
        "replicas",
        "fully_labeled_replicas",
        "ready_replicas",
        "available_replicas",
        "observed_generation",
    ):
        errs += nonnegative(f"status.{_camel(name)}", getattr(status, name))
    for name in ("fully_labeled_replicas", "ready_replicas", "available_replicas"):
        if getattr(status, name) > status.replicas:
            errs.append(
                fields.invalid(f"status.{_camel(name)}", getattr(status, name), NOT_REPLICAS)
            )
    if status.available_replicas > status.ready_replicas:
        errs.append(
            fields.invalid("status.availableReplicas", status.available_replicas, NOT_READY)
        )
    return errs


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


# ---------------------------------------------------------------- deployment


def _int_or_percent(path: str, value: str) -> tuple[list[FieldError], int | None, bool]:
    """Errors, the number (or percentage), and whether it is a percentage."""
    if re.fullmatch(r"-?[0-9]+", value):
        number = int(value)
        return nonnegative(path, number), number, False
    if _PERCENT.match(value):
        return [], int(value[:-1]), True
    return [fields.invalid(path, value, PERCENT_MSG)], None, True


def _rolling_update(path: str, rolling: apps_pb2.RollingUpdateDeployment) -> list[FieldError]:
    unavailable_errs, unavailable, unavailable_pct = _int_or_percent(
        f"{path}.maxUnavailable", rolling.max_unavailable
    )
    surge_errs, surge, _ = _int_or_percent(f"{path}.maxSurge", rolling.max_surge)
    errs = unavailable_errs + surge_errs
    if unavailable == 0 and surge == 0:
        errs.append(
            fields.invalid(
                f"{path}.maxUnavailable",
                rolling.max_unavailable,
                "may not be 0 when `maxSurge` is 0",
            )
        )
    if unavailable_pct and unavailable is not None and unavailable > 100:
        errs.append(
            fields.invalid(
                f"{path}.maxUnavailable", rolling.max_unavailable, "must not be greater than 100%"
            )
        )
    return errs


def _strategy(strategy: apps_pb2.DeploymentStrategy) -> list[FieldError]:
    path = "spec.strategy"
    if strategy.type == "Recreate":
        if strategy.HasField("rolling_update"):
            return [
                fields.forbidden(
                    f"{path}.rollingUpdate",
                    "may not be specified when strategy `type` is 'Recreate'",
                )
            ]
        return []
    if strategy.type == "RollingUpdate":
        if not strategy.HasField("rolling_update"):
            return [
                fields.required(
                    f"{path}.rollingUpdate", "this should be defaulted and never be nil"
                )
            ]
        return _rolling_update(f"{path}.rollingUpdate", strategy.rolling_update)
    return [fields.unsupported(f"{path}.type", strategy.type, STRATEGY_TYPES)]


def deployment(obj: apps_pb2.Deployment) -> list[FieldError]:
    spec = obj.spec
    errs = object_meta(obj.metadata, namespaced=True) + _replica_counts(spec)
    selector_errs, matches = _selector(spec)
    # Kubernetes validates a deployment's template as a replica set's.
    errs += selector_errs + _controller_template("spec.template", spec, "ReplicaSet", matches)
    errs += _strategy(spec.strategy)
    if spec.HasField("revision_history_limit"):
        errs += nonnegative("spec.revisionHistoryLimit", spec.revision_history_limit)
    if spec.HasField("progress_deadline_seconds"):
        errs += nonnegative("spec.progressDeadlineSeconds", spec.progress_deadline_seconds)
        if spec.progress_deadline_seconds <= spec.min_ready_seconds:
            errs.append(
                fields.invalid(
                    "spec.progressDeadlineSeconds",
                    spec.progress_deadline_seconds,
                    "must be greater than minReadySeconds",
                )
            )
    return errs + deployment_status(obj.status)


def deployment_update(new: apps_pb2.Deployment, old: apps_pb2.Deployment) -> list[FieldError]:
    errs = deployment(new) + immutable("spec.selector", new.spec.selector, old.spec.selector)
    if (
        new.status.HasField("collision_count")
        and old.status.HasField("collision_count")
        and new.status.collision_count < old.status.collision_count
    ):
        errs.append(
            fields.invalid(
                "status.collisionCount", new.status.collision_count, "cannot be decremented"
            )
        )
    return errs


def deployment_status(status: apps_pb2.DeploymentStatus) -> list[FieldError]:
    errs: list[FieldError] = []
    for name in (
        "observed_generation",
        "replicas",
        "updated_replicas",
        "ready_replicas",
        "available_replicas",
        "unavailable_replicas",
    ):
        errs += nonnegative(f"status.{_camel(name)}", getattr(status, name))
    if status.HasField("collision_count"):
        errs += nonnegative("status.collisionCount", status.collision_count)
    for name in ("updated_replicas", "ready_replicas", "available_replicas"):
        if getattr(status, name) > status.replicas:
            errs.append(
                fields.invalid(f"status.{_camel(name)}", getattr(status, name), NOT_REPLICAS)
            )
    if status.available_replicas > status.ready_replicas:
        errs.append(
            fields.invalid("status.availableReplicas", status.available_replicas, NOT_READY)
        )
    return errs
