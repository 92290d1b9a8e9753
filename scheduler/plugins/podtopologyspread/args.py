"""PodTopologySpreadArgs (kubernetes apis/config): defaultingType, System (Kubernetes' default: the
system default constraints) or List (the profile's defaultConstraints), validated as
kube-scheduler validates them (apis/config/validation ValidatePodTopologySpreadArgs)."""

from __future__ import annotations

from dataclasses import dataclass

from podplane.apimachinery.json_types import JSONValue
from scheduler.framework.interfaces import PluginArgs

DO_NOT_SCHEDULE = "DoNotSchedule"
SCHEDULE_ANYWAY = "ScheduleAnyway"
SYSTEM_DEFAULTING = "System"
LIST_DEFAULTING = "List"
LABEL_HOSTNAME = "kubernetes.io/hostname"
LABEL_ZONE = "topology.kubernetes.io/zone"


@dataclass(frozen=True)
class DefaultConstraint:
    """A constraint for pods that name none: its selector is deduced for each pod."""

    max_skew: int
    topology_key: str
    when_unsatisfiable: str


# kube-scheduler's systemDefaultConstraints (podtopologyspread/plugin.go).
SYSTEM_DEFAULT_CONSTRAINTS = (
    DefaultConstraint(3, LABEL_HOSTNAME, SCHEDULE_ANYWAY),
    DefaultConstraint(5, LABEL_ZONE, SCHEDULE_ANYWAY),
)


@dataclass(frozen=True)
class Defaults:
    constraints: tuple[DefaultConstraint, ...]
    # Under the system defaults a node need not have every topology key to be scored.
    system: bool


def default_constraints(args: PluginArgs) -> Defaults:
    """The constraints for pods without their own; ValueError naming the field when the
    arguments are not valid."""
    defaulting = args.get("defaultingType", SYSTEM_DEFAULTING)
    given = args.get("defaultConstraints") or []
    if defaulting not in (SYSTEM_DEFAULTING, LIST_DEFAULTING):
        raise ValueError(
            f'defaultingType: Unsupported value: "{defaulting}": '
            f'supported values: "{SYSTEM_DEFAULTING}", "{LIST_DEFAULTING}"'
        )
    if not isinstance(given, list):
        raise ValueError("defaultConstraints: must be a list of constraints")
    if defaulting == SYSTEM_DEFAULTING and given:
        raise ValueError(
            f'defaultingType: Invalid value: "{SYSTEM_DEFAULTING}": '
            "when .defaultConstraints are not empty"
        )
    constraints = (
        SYSTEM_DEFAULT_CONSTRAINTS
        if defaulting == SYSTEM_DEFAULTING
        else tuple(_default_constraint(i, c) for i, c in enumerate(given))
    )
    seen: set[tuple[str, str]] = set()
    for i, d in enumerate(constraints):
        if (d.topology_key, d.when_unsatisfiable) in seen:
            raise ValueError(
                f"defaultConstraints[{i}]: Duplicate value: "
                f'{{"{d.topology_key}", "{d.when_unsatisfiable}"}}'
            )
        seen.add((d.topology_key, d.when_unsatisfiable))
    return Defaults(constraints, system=defaulting == SYSTEM_DEFAULTING)


def _default_constraint(i: int, c: JSONValue) -> DefaultConstraint:
    path = f"defaultConstraints[{i}]"
    if not isinstance(c, dict):
        raise ValueError(f"{path}: must be a constraint")
    max_skew = c.get("maxSkew", 0)
    if not isinstance(max_skew, int) or isinstance(max_skew, bool) or max_skew <= 0:
        raise ValueError(
            f"{path}.maxSkew: Invalid value: {max_skew!r}: not in valid range (0, inf)"
        )
    key = c.get("topologyKey", "")
    if not isinstance(key, str) or not key:
        raise ValueError(f"{path}.topologyKey: Required value: can not be empty")
    action = c.get("whenUnsatisfiable", "")
    if not action:
        raise ValueError(f"{path}.whenUnsatisfiable: Required value: can not be empty")
    if action not in (DO_NOT_SCHEDULE, SCHEDULE_ANYWAY):
        raise ValueError(
            f'{path}.whenUnsatisfiable: Unsupported value: "{action}": '
            f'supported values: "{DO_NOT_SCHEDULE}", "{SCHEDULE_ANYWAY}"'
        )
    if c.get("labelSelector") is not None:
        raise ValueError(
            f"{path}.labelSelector: Forbidden: constraint must not define a selector, "
            "as they deduced for each pod"
        )
    return DefaultConstraint(max_skew, key, action)
