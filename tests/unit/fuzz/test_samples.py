"""The fuzzer's samples: one for every served kind, each one a valid object, so a mutation starts
from what the apiserver accepts and what it refuses is the mutation's doing."""

from __future__ import annotations

from typing import Any

import pytest

from apiserver.registry.strategy import STRATEGIES
from apiserver.registry.versions import VERSIONS, ServedVersion
from podplane.apimachinery import codec, resources
from podplane.apimachinery.codec import FieldValidation
from tests.fuzz import samples


def test_every_served_kind_has_a_sample() -> None:
    assert samples.kinds_without_sample() == []


@pytest.mark.parametrize("resource", resources.ALL, ids=lambda r: r.plural)
def test_each_sample_decodes_strictly_and_is_valid(resource: resources.Resource) -> None:
    data = samples.sample(resource, "fuzz-1", "fuzz")
    obj, unknown = codec.decode(resource.message, data, FieldValidation.STRICT)
    assert unknown == []
    strategy = STRATEGIES[resource.plural]
    strategy.default(obj)
    strategy.prepare_for_create(obj)
    assert strategy.validate(obj) == []


@pytest.mark.parametrize("resource", resources.CREATE_ONLY, ids=lambda r: r.plural)
def test_each_review_sample_decodes_strictly(resource: resources.CreateOnlyResource) -> None:
    data = samples.sample(resource, "fuzz-1", "fuzz")
    _, unknown = codec.decode(resource.message, data, FieldValidation.STRICT)
    assert unknown == []


def test_a_sample_is_a_fresh_copy() -> None:
    first = samples.sample(resources.POD, "a", "fuzz")
    first["spec"]["containers"][0]["name"] = "changed"
    assert samples.sample(resources.POD, "b", "fuzz")["spec"]["containers"][0]["name"] == "main"


@pytest.mark.parametrize("version", VERSIONS, ids=lambda v: v.strategy.resource.api_version)
def test_each_other_version_sample_decodes_strictly_and_is_valid(
    version: ServedVersion[Any, Any],
) -> None:
    resource = version.strategy.resource
    data = samples.sample(resource, "fuzz-1", "fuzz")
    obj, unknown = codec.decode(resource.message, data, FieldValidation.STRICT)
    assert unknown == []
    version.strategy.default(obj)
    version.strategy.prepare_for_create(obj)
    assert version.strategy.validate(obj) == []
