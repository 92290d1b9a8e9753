"""CustomResourceDefinition validation as k8s.io/apiextensions-apiserver's validation package
gives it: each bad field named with Kubernetes' message and path (per-version parts moved up to
spec.validation, spec.subresources, ... when every version has the same, as kube-apiserver's
internal form has them), and the defaults and status the registry gives a new definition."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from podplane.apimachinery import codec
from podplane.apimachinery.codec import FieldValidation
from tests.unit.apiserver.definition_samples import CRD, STRATEGY, errors_of, good


def test_a_good_definition_is_defaulted_and_valid() -> None:
    crd, _ = codec.decode(CRD, good(), FieldValidation.STRICT)
    STRATEGY.default(crd)
    STRATEGY.prepare_for_create(crd)
    assert STRATEGY.validate(crd) == []
    assert crd.spec.names.singular == "widget"
    assert crd.spec.names.list_kind == "WidgetList"
    assert crd.spec.conversion.strategy == "None"
    assert list(crd.status.stored_versions) == ["v1"]


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = data
        for p in parents:
            node = node[int(p)] if p.isdigit() else node[p]
        node[int(last) if last.isdigit() else last] = value

    return change


def _second_version(data: dict[str, Any]) -> None:
    v2 = copy.deepcopy(data["spec"]["versions"][0])
    v2.update(name="v2", storage=False)
    v2["schema"]["openAPIV3Schema"]["properties"]["extra"] = {"type": "string"}
    data["spec"]["versions"].append(v2)


def _two_storage_versions(data: dict[str, Any]) -> None:
    _second_version(data)
    data["spec"]["versions"][1]["storage"] = True


def _second_version_not_an_object(data: dict[str, Any]) -> None:
    _second_version(data)
    data["spec"]["versions"][1]["schema"]["openAPIV3Schema"]["type"] = "array"


CASES: list[tuple[str, Callable[[dict[str, Any]], object], str]] = [
    (
        "name not plural.group",
        _set("metadata.name", "widgets.other.com"),
        'metadata.name: Invalid value: "widgets.other.com": must be spec.names.plural+"."+'
        "spec.group",
    ),
    (
        "group without a dot",
        lambda d: (d["spec"].update(group="example"), d["metadata"].update(name="widgets.example")),
        'spec.group: Invalid value: "example": should be a domain with at least one dot',
    ),
    (
        "scope",
        _set("spec.scope", "Global"),
        'spec.scope: Unsupported value: "Global": supported values: "Cluster", "Namespaced"',
    ),
    ("no kind", _set("spec.names.kind", ""), "spec.names.kind: Required value"),
    (
        "plural with capitals",
        lambda d: (
            d["spec"]["names"].update(plural="Widgets"),
            d["metadata"].update(name="Widgets.example.com"),
        ),
        'spec.names.plural: Invalid value: "Widgets": a DNS-1035 label must consist of lower '
        "case alphanumeric characters or '-', start with an alphabetic character, and end with "
        "an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation "
        "is '[a-z]([-a-z0-9]*[a-z0-9])?')",
    ),
    (
        "kind equal to list kind",
        _set("spec.names.listKind", "Widget"),
        'spec.names.listKind: Invalid value: "Widget": kind and listKind may not be the same',
    ),
    (
        "two storage versions",
        _two_storage_versions,
        "must have exactly one version marked as storage version",
    ),
    (
        "no schema",
        lambda d: d["spec"]["versions"][0].pop("schema"),
        "spec.versions[0].schema.openAPIV3Schema: Required value: schemas are required",
    ),
    (
        "one version's schema: named as spec.validation's",
        _set("spec.versions.0.schema.openAPIV3Schema.properties.spec.properties.name", {}),
        "spec.validation.openAPIV3Schema.properties[spec].properties[name].type: Required "
        "value: must not be empty for specified object fields",
    ),
    (
        "two versions' schemas: each named as its own",
        _second_version_not_an_object,
        'spec.versions[1].schema.openAPIV3Schema.type: Invalid value: "array": must be object '
        "at the root",
    ),
    (
        "printer column type",
        _set(
            "spec.versions.0.additionalPrinterColumns",
            [{"name": "R", "type": "int", "jsonPath": ".spec.replicas"}],
        ),
        'spec.additionalPrinterColumns[0].type: Invalid value: "int": must be one of '
        "boolean,date,integer,number,string",
    ),
    (
        "scale path outside spec",
        _set(
            "spec.versions.0.subresources",
            {"scale": {"specReplicasPath": ".status.r", "statusReplicasPath": ".status.r"}},
        ),
        'spec.subresources.scale.specReplicasPath: Invalid value: ".status.r": should be a json '
        "path under .spec",
    ),
    (
        "webhook conversion",
        _set("spec.conversion", {"strategy": "Webhook"}),
        "spec.conversion.webhookClientConfig: Required value: required when strategy is set to "
        "Webhook",
    ),
    (
        "preserveUnknownFields",
        _set("spec.preserveUnknownFields", True),
        "spec.preserveUnknownFields: Invalid value: true: cannot set to true, set "
        "x-kubernetes-preserve-unknown-fields to true in spec.versions[*].schema instead",
    ),
    (
        "deprecation warning of a version not deprecated",
        _set("spec.versions.0.deprecationWarning", "old"),
        'spec.versions[0].deprecationWarning: Invalid value: "old": can only be set for '
        "deprecated versions",
    ),
    (
        "a selectable field that is not a scalar",
        _set("spec.versions.0.selectableFields", [{"jsonPath": ".spec"}]),
        'spec.selectableFields[0].jsonPath: Invalid value: ".spec": must point to a field of '
        "type string, boolean or integer. Enum string fields and strings with formats are "
        "allowed.",
    ),
    (
        "a Kubernetes group without approval",
        lambda d: (
            d["spec"].update(group="things.k8s.io"),
            d["metadata"].update(name="widgets.things.k8s.io"),
        ),
        "metadata.annotations[api-approved.kubernetes.io]: Required value: protected groups "
        'must have approval annotation "api-approved.kubernetes.io", see '
        "https://github.com/kubernetes/enhancements/pull/1111",
    ),
]


@pytest.mark.parametrize("change, message", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_fields_are_named(change: Callable[[dict[str, Any]], object], message: str) -> None:
    data = good()
    change(data)
    found = errors_of(data)
    assert any(message in e for e in found), found


def test_immutable_fields_once_established() -> None:
    old, _ = codec.decode(CRD, good(), FieldValidation.STRICT)
    STRATEGY.default(old)
    STRATEGY.prepare_for_create(old)
    old.status.conditions.add(type="Established", status="True")
    new = CRD()
    new.CopyFrom(old)
    new.spec.scope = "Cluster"
    new.spec.names.kind = "Gadget"
    found = [str(e) for e in STRATEGY.validate_update(new, old)]
    assert 'spec.scope: Invalid value: "Cluster": field is immutable' in found
    assert 'spec.names.kind: Invalid value: "Gadget": field is immutable' in found


def test_a_new_storage_version_is_recorded() -> None:
    old, _ = codec.decode(CRD, good(), FieldValidation.STRICT)
    STRATEGY.default(old)
    STRATEGY.prepare_for_create(old)
    data = good()
    _second_version(data)
    data["spec"]["versions"][0]["storage"], data["spec"]["versions"][1]["storage"] = False, True
    new, _ = codec.decode(CRD, data, FieldValidation.STRICT)
    STRATEGY.default(new)
    new.status.CopyFrom(old.status)
    STRATEGY.prepare_for_update(new, old)
    assert list(new.status.stored_versions) == ["v1", "v2"]
    assert STRATEGY.validate_update(new, old) == []
