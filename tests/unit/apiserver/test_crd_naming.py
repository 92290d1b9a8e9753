"""The naming controller's decisions (naming_controller.go calculateNamesAndConditions): a
definition's names are accepted unless another definition of its group accepted them first; a
conflict is named by the last name found taken; the Established condition starts at
"Installing" once every name is accepted, "NotAccepted" before."""

from __future__ import annotations

from apiserver.registry.apiextensions import naming
from podplane.api.apiextensions.v1 import apiextensions_pb2

Names = apiextensions_pb2.CustomResourceDefinitionNames
CRD = apiextensions_pb2.CustomResourceDefinition


def crd(plural: str, kind: str, short: tuple[str, ...] = (), accepted: bool = False) -> CRD:
    names = Names(
        plural=plural,
        singular=plural[:-1],
        kind=kind,
        list_kind=f"{kind}List",
        short_names=list(short),
        categories=["all"],
    )
    out = CRD()
    out.metadata.name = f"{plural}.example.com"
    out.spec.group = "example.com"
    out.spec.names.CopyFrom(names)
    if accepted:
        out.status.accepted_names.CopyFrom(names)
    return out


def test_fresh_names_are_accepted() -> None:
    new = crd("widgets", "Widget", ("wd",))
    names, accepted, established = naming.accepted_names(new, [new])
    assert names == new.spec.names
    assert (accepted.status, accepted.reason, accepted.message) == (
        "True",
        "NoConflicts",
        "no conflicts found",
    )
    assert (established.status, established.reason, established.message) == (
        "False",
        "Installing",
        "the initial names have been accepted",
    )


def test_names_another_definition_holds_are_refused() -> None:
    held = crd("widgets", "Widget", ("wd",), accepted=True)
    new = crd("gadgets", "Gadget", ("wd",))
    names, accepted, established = naming.accepted_names(new, [held, new])
    assert (accepted.status, accepted.reason, accepted.message) == (
        "False",
        "ShortNamesConflict",
        '"wd" is already in use',
    )
    assert list(names.short_names) == []
    assert names.plural == "gadgets" and names.kind == "Gadget"
    assert (established.status, established.reason) == ("False", "NotAccepted")

    same_plural = crd("widgets", "Thing")
    same_plural.metadata.name = "widgets.other"
    _, accepted, _ = naming.accepted_names(same_plural, [held, same_plural])
    assert (accepted.reason, accepted.message) == ("SingularConflict", '"widget" is already in use')


def test_a_definition_keeps_the_names_it_was_accepted_with() -> None:
    mine = crd("widgets", "Widget", accepted=True)
    assert naming.renamed(mine, [mine]) is None
    mine.spec.names.short_names.append("w")
    change = naming.renamed(mine, [mine])
    assert change is not None
    updated = change(mine)
    assert list(updated.status.accepted_names.short_names) == ["w"]
    assert updated.status.conditions[0].type == "NamesAccepted"
