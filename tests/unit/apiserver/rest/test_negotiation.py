"""The form of an answer a client's Accept header asks for, with the headers kubectl, client-go
and the official Python client send: JSON, a Table (kubectl get), metadata only; protobuf and
other forms are passed over for the next choice, and nothing servable is a 406;
aggregated discovery when it is the first choice this server can give."""

from __future__ import annotations

import pytest

from apiserver import errors
from apiserver.endpoints.rest import negotiation
from apiserver.endpoints.rest.negotiation import Accepted, Form, accepted, include_object
from podplane.printers.table import IncludeObject

KUBECTL_GET = (
    "application/json;as=Table;v=v1;g=meta.k8s.io,"
    "application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
)


@pytest.mark.parametrize(
    "accept,form",
    [
        ("", Accepted(Form.OBJECT)),
        ("*/*", Accepted(Form.OBJECT)),
        ("application/json", Accepted(Form.OBJECT)),
        ("application/json, */*", Accepted(Form.OBJECT)),  # client-go's default
        ("application/json, application/yaml", Accepted(Form.OBJECT)),  # the Python client's
        ("application/yaml", Accepted(Form.OBJECT, yaml=True)),
        ("application/yaml, application/json", Accepted(Form.OBJECT, yaml=True)),
        ("application/vnd.kubernetes.protobuf,application/json", Accepted(Form.OBJECT)),
        ("application/vnd.kubernetes.protobuf, */*", Accepted(Form.OBJECT)),
        (KUBECTL_GET, Accepted(Form.TABLE, "v1")),
        ("application/json;as=Table;v=v1beta1;g=meta.k8s.io", Accepted(Form.TABLE, "v1beta1")),
        ("application/json; as=Table; g=meta.k8s.io; v=v1", Accepted(Form.TABLE, "v1")),
        # A Table of a version not served: the next choice.
        ("application/json;as=Table;v=v2;g=meta.k8s.io,application/json", Accepted(Form.OBJECT)),
        # client-go's metadata client.
        (
            "application/vnd.kubernetes.protobuf;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,"
            "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json",
            Accepted(Form.METADATA, "v1"),
        ),
        (
            "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1",
            Accepted(Form.METADATA, "v1"),
        ),
        # Aggregated discovery's form is not a resource's: the plain JSON after it.
        (
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json",
            Accepted(Form.OBJECT),
        ),
    ],
)
def test_the_form_each_client_asks_for(accept: str, form: Accepted) -> None:
    assert accepted(accept) == form


@pytest.mark.parametrize(
    "accept",
    [
        "application/vnd.kubernetes.protobuf",
        "application/cbor",
        "text/html",
        "application/json;as=Table;v=v1;g=example.com",
        "application/json;as=Scale;v=v1;g=autoscaling",
    ],
)
def test_nothing_servable_is_not_acceptable(accept: str) -> None:
    with pytest.raises(errors.APIError) as refused:
        accepted(accept)
    assert refused.value.reason == "NotAcceptable"
    assert "application/json" in refused.value.message


def test_meta_group_version() -> None:
    assert accepted(KUBECTL_GET).group_version == "meta.k8s.io/v1"


@pytest.mark.parametrize(
    "query,include",
    [
        ({}, IncludeObject.METADATA),
        ({"includeObject": "None"}, IncludeObject.NONE),
        ({"includeObject": "Metadata"}, IncludeObject.METADATA),
        ({"includeObject": "Object"}, IncludeObject.OBJECT),
    ],
)
def test_a_table_rows_object(query: dict[str, str], include: IncludeObject) -> None:
    assert include_object(query) is include


def test_an_unknown_include_object_is_a_bad_request() -> None:
    with pytest.raises(errors.APIError) as refused:
        include_object({"includeObject": "Everything"})
    assert refused.value.reason == "BadRequest"


@pytest.mark.parametrize(
    ("accept", "version"),
    [
        # client-go 1.31's discovery client, and a newer one's with a profile first.
        (
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
            "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,"
            "application/json",
            "v2",
        ),
        (
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList;profile=nopeer,"
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
            "application/json",
            "v2",
        ),
        ("application/json;as=APIGroupDiscoveryList;v=v2beta1;g=apidiscovery.k8s.io", "v2beta1"),
        ("application/json", None),
        ("", None),
        ("*/*", None),
        # Protobuf and YAML of the list are not given here: the next choice decides.
        (
            "application/vnd.kubernetes.protobuf;g=apidiscovery.k8s.io;v=v2;"
            "as=APIGroupDiscoveryList,application/json",
            None,
        ),
        ("application/yaml;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList", None),
        # Another conversion, an unknown version: not this one.
        ("application/json;g=meta.k8s.io;v=v1;as=Table", None),
        ("application/json;g=apidiscovery.k8s.io;v=v3;as=APIGroupDiscoveryList", None),
        # Preference is by q, then by order.
        (
            "application/json;q=0.9,"
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList",
            "v2",
        ),
        ("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList;q=0", None),
    ],
)
def test_aggregated_discovery_is_given_when_asked_for_first(
    accept: str, version: str | None
) -> None:
    assert negotiation.aggregated_discovery(accept) == version
