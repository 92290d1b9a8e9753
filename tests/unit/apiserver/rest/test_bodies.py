"""Request bodies as the REST door decodes them (the create and update handlers' decoding):
fields given twice and unknown fields by the request's fieldValidation (Strict refuses them,
Warn answers warnings, Ignore neither), a body of another kind or version, values of the wrong
type, and the query parameters that go with a body, each with Kubernetes' words."""

from __future__ import annotations

from typing import Any

import pytest

from apiserver import errors
from apiserver.endpoints.rest import bodies, patching
from apiserver.endpoints.rest.bodies import decode_json, decode_object
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import resources
from podplane.apimachinery.codec import FieldValidation

POD = resources.POD
CANNOT = 'Pod in version "v1" cannot be handled as a Pod: '
BODY = (
    b'{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a","name":"b"},'
    b'"spec":{"containers":[{"name":"c","image":"i","imagePullPolicyy":"Always",'
    b'"image":"j"}]}}'
)


def decode_pod(
    data: Any, duplicates: list[str], validation: FieldValidation
) -> tuple[core_pb2.Pod, list[str]]:
    pod, warnings = decode_object(POD, data, duplicates, validation)
    assert isinstance(pod, core_pb2.Pod)
    return pod, warnings


def refusal(
    data: Any,
    duplicates: list[str] | None = None,
    validation: FieldValidation = FieldValidation.STRICT,
) -> errors.APIError:
    with pytest.raises(errors.APIError) as refused:
        decode_object(POD, data, duplicates or [], validation)
    assert refused.value.reason == "BadRequest"
    return refused.value


def test_json_bodies_remember_fields_given_twice() -> None:
    data, duplicates = decode_json(BODY)
    assert duplicates == ["metadata.name", "spec.containers[0].image"]
    # The last one counts, as Go's decoder takes it.
    assert data["metadata"]["name"] == "b" and data["spec"]["containers"][0]["image"] == "j"


def test_strict_refuses_unknown_and_duplicate_fields_naming_each() -> None:
    data, duplicates = decode_json(BODY)
    assert refusal(data, duplicates).message == (
        CANNOT + 'strict decoding error: unknown field "spec.containers[0].imagePullPolicyy", '
        'duplicate field "metadata.name", duplicate field "spec.containers[0].image"'
    )
    assert refusal({"metadata": {"name": "a"}}, ["metadata.name"]).message == (
        CANNOT + 'strict decoding error: duplicate field "metadata.name"'
    )


def test_warn_decodes_and_warns_of_each() -> None:
    data, duplicates = decode_json(BODY)
    pod, warnings = decode_pod(data, duplicates, FieldValidation.WARN)
    assert warnings == [
        'unknown field "spec.containers[0].imagePullPolicyy"',
        'duplicate field "metadata.name"',
        'duplicate field "spec.containers[0].image"',
    ]
    assert pod.metadata.name == "b" and pod.spec.containers[0].image == "j"


def test_ignore_decodes_without_a_word() -> None:
    data, duplicates = decode_json(BODY)
    pod, warnings = decode_pod(data, duplicates, FieldValidation.IGNORE)
    assert warnings == [] and pod.metadata.name == "b"


@pytest.mark.parametrize(
    "data,message",
    [
        (
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}},
            'ConfigMap in version "v1" cannot be handled as a Pod: a ConfigMap cannot be converted '
            "to a Pod",
        ),
        (
            {"apiVersion": "apps/v1", "kind": "Deployment"},
            'Deployment in version "v1" cannot be handled as a Pod: a Deployment cannot be '
            "converted to a Pod",
        ),
        (
            {"apiVersion": "apps/v1", "kind": "Pod"},
            'Pod in version "v1" cannot be handled as a Pod: no kind "Pod" is registered for '
            'version "apps/v1"',
        ),
        (
            {"apiVersion": "v2", "kind": "Pod"},
            'Pod in version "v2" cannot be handled as a Pod: no kind "Pod" is registered for '
            'version "v2"',
        ),
        (
            {"kind": "Widget"},
            'Widget in version "v1" cannot be handled as a Pod: no kind "Widget" is registered for '
            'version "v1"',
        ),
        ({"kind": 5}, CANNOT + "apiVersion and kind must be strings"),
    ],
)
def test_a_body_of_another_kind_or_version(data: dict[str, Any], message: str) -> None:
    assert refusal(data).message == message


def test_kind_and_api_version_may_be_left_out() -> None:
    pod, _ = decode_pod({"metadata": {"name": "x"}}, [], FieldValidation.STRICT)
    assert pod.metadata.name == "x"
    pod, _ = decode_pod({"kind": "Pod", "metadata": {"name": "y"}}, [], FieldValidation.STRICT)
    assert pod.metadata.name == "y"


@pytest.mark.parametrize(
    "data,detail",
    [
        ([], "expected an object, got array"),
        ("pod", "expected an object, got string"),
        ({"spec": {"containers": "web"}}, "spec.containers: expected array, got string"),
        ({"metadata": {"name": 7}}, "metadata.name: expected string, got number"),
        (
            {"spec": {"containers": [{"name": "c", "ports": [{"containerPort": "http"}]}]}},
            "spec.containers[0].ports[0].containerPort: expected integer, got string",
        ),
        (
            {"metadata": {"creationTimestamp": "now"}},
            'metadata.creationTimestamp: parsing time "now"',
        ),
    ],
)
def test_a_value_of_the_wrong_type(data: Any, detail: str) -> None:
    for validation in FieldValidation:
        assert refusal(data, validation=validation).message.startswith(CANNOT + detail)


def test_a_body_that_is_not_json() -> None:
    with pytest.raises(errors.APIError) as refused:
        decode_json(b'{"metadata": ')
    assert refused.value.reason == "BadRequest"
    assert refused.value.message.startswith("the request body is not valid JSON")


@pytest.mark.parametrize(
    "value,mode",
    [
        ("", FieldValidation.WARN),
        ("Warn", FieldValidation.WARN),
        ("Strict", FieldValidation.STRICT),
        ("Ignore", FieldValidation.IGNORE),
    ],
)
def test_field_validation_parameter(value: str, mode: FieldValidation) -> None:
    assert bodies.field_validation({"fieldValidation": value} if value else {}) is mode


def test_an_unknown_field_validation_is_a_bad_request() -> None:
    with pytest.raises(errors.APIError) as refused:
        bodies.field_validation({"fieldValidation": "strict"})
    assert refused.value.message == (
        'fieldValidation: Unsupported value: "strict": supported values: "Ignore", "Strict", "Warn"'
    )


def test_dry_run_parameter() -> None:
    assert bodies.dry_run({}) is False
    assert bodies.dry_run({"dryRun": "All"}) is True
    with pytest.raises(errors.APIError) as refused:
        bodies.dry_run({"dryRun": "Some"})
    assert refused.value.message == 'dryRun: Unsupported value: "Some": supported values: "All"'


def test_the_url_names_the_object() -> None:
    pod = core_pb2.Pod()
    bodies.require_name_match(POD, pod, "web")
    bodies.require_namespace_match(POD, pod, "team-a")
    assert (pod.metadata.name, pod.metadata.namespace) == ("web", "team-a")
    other = core_pb2.Pod()
    other.metadata.name, other.metadata.namespace = "api", "team-b"
    with pytest.raises(errors.APIError) as refused:
        bodies.require_name_match(POD, other, "web")
    assert refused.value.message == (
        "the name of the object (api) does not match the name on the URL (web)"
    )
    with pytest.raises(errors.APIError) as refused:
        bodies.require_namespace_match(POD, other, "team-a")
    assert refused.value.message == (
        "the namespace of the provided object does not match the namespace sent on the request"
    )
    node = core_pb2.Node()
    bodies.require_namespace_match(resources.NODE, node, "")
    assert node.metadata.namespace == ""


def test_a_patch_of_a_type_not_served_names_the_patch_types() -> None:
    with pytest.raises(errors.APIError) as refused:
        patching.applier("application/json", POD)
    assert (refused.value.reason, refused.value.message) == (
        "UnsupportedMediaType",
        "the body of the request was in an unknown format - accepted "
        "media types include: application/json-patch+json, application/merge-patch+json, "
        "application/strategic-merge-patch+json, application/apply-patch+yaml "
        '(got "application/json")',
    )
