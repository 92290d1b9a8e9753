"""The naming controller (k8s.io/apiextensions-apiserver/pkg/controller/status/
naming_controller.go): a definition's requested names are accepted (status.acceptedNames,
NamesAccepted True "NoConflicts") unless another definition of its group accepted them first
(NamesAccepted False, PluralConflict, SingularConflict, ShortNamesConflict, KindConflict or
ListKindConflict: `"crontabs" is already in use`); Established starts False ("Installing")
until the establishing controller sets it. A definition that frees names has its group looked
at again."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from podplane.api.apiextensions.v1 import apiextensions_pb2
from podplane.apimachinery.apiextensions import definitions
from podplane.apimachinery.apiextensions.definitions import CRD

Names = apiextensions_pb2.CustomResourceDefinitionNames
Condition = apiextensions_pb2.CustomResourceDefinitionCondition


def _in_use(requested: str, accepted: str, used: set[str]) -> str | None:
    """equalToAcceptedOrFresh: why a requested name cannot be taken, or None."""
    if requested == accepted or requested not in used:
        return None
    return f'"{requested}" is already in use'


def accepted_names(crd: CRD, group: Iterable[CRD]) -> tuple[Names, Condition, Condition]:
    """The names the definition may serve, its NamesAccepted condition and its Established one
    (calculateNamesAndConditions), given the definitions of its group as last known."""
    resources: set[str] = set()
    kinds: set[str] = set()
    for other in group:
        names = other.status.accepted_names
        resources.update((names.plural, names.singular, *names.short_names))
        kinds.update((names.kind, names.list_kind))
    requested, accepted = crd.spec.names, crd.status.accepted_names
    new = Names()
    new.CopyFrom(accepted)
    status, reason, message = "Unknown", "", ""

    def conflict(why: str, problem: str) -> None:
        nonlocal status, reason, message
        status, reason, message = "False", why, problem

    for field_name, why, used in (
        ("plural", "PluralConflict", resources),
        ("singular", "SingularConflict", resources),
    ):
        problem = _in_use(getattr(requested, field_name), getattr(accepted, field_name), used)
        if problem:
            conflict(why, problem)
        else:
            setattr(new, field_name, getattr(requested, field_name))
    if list(requested.short_names) != list(accepted.short_names):
        mine = set(accepted.short_names)
        problems = [
            p
            for short in requested.short_names
            if short not in mine and (p := _in_use(short, "", resources))
        ]
        if problems:
            detail = problems[0] if len(problems) == 1 else "[" + ", ".join(problems) + "]"
            conflict("ShortNamesConflict", detail)
        else:
            del new.short_names[:]
            new.short_names.extend(requested.short_names)
    for field_name, why in (("kind", "KindConflict"), ("list_kind", "ListKindConflict")):
        problem = _in_use(getattr(requested, field_name), getattr(accepted, field_name), kinds)
        if problem:
            conflict(why, problem)
        else:
            setattr(new, field_name, getattr(requested, field_name))
    del new.categories[:]
    new.categories.extend(requested.categories)
    if status == "Unknown":
        status, reason, message = "True", "NoConflicts", "no conflicts found"
    names_accepted = Condition(
        type=definitions.NAMES_ACCEPTED, status=status, reason=reason, message=message
    )
    established = Condition(
        type=definitions.ESTABLISHED,
        status="False",
        reason="NotAccepted",
        message="not all names are accepted",
    )
    old = definitions.condition(crd, definitions.ESTABLISHED)
    if old is not None:
        established.CopyFrom(old)
    if established.status != "True" and status == "True":
        established = Condition(
            type=definitions.ESTABLISHED,
            status="False",
            reason="Installing",
            message="the initial names have been accepted",
        )
    return new, names_accepted, established


def _equivalent(a: Condition | None, b: Condition | None) -> bool:
    """IsCRDConditionEquivalent: the same but for the transition time."""
    if a is None or b is None:
        return a is b
    return (a.type, a.status, a.reason, a.message) == (b.type, b.status, b.reason, b.message)


def renamed(crd: CRD, group: Iterable[CRD]) -> Callable[[CRD], CRD] | None:
    """The change the naming controller makes to the definition (on the stored copy), or None
    when there is none to make."""
    if crd.spec.names == crd.status.accepted_names:
        return None
    names, names_accepted, established = accepted_names(crd, group)
    current = definitions.condition(crd, definitions.NAMES_ACCEPTED)
    if names == crd.status.accepted_names and _equivalent(names_accepted, current):
        return None

    def change(stored: CRD) -> CRD:
        out = CRD()
        out.CopyFrom(stored)
        out.status.accepted_names.CopyFrom(names)
        for condition in (names_accepted, established):
            definitions.set_condition(
                out, condition.type, condition.status, condition.reason, condition.message
            )
        return out

    return change
