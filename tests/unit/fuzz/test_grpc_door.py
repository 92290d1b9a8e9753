"""The gRPC fuzzer's requests: the same ones for a seed, every served kind and verb among them,
and the malformed ones really malformed (a fuzzer whose broken messages decode tests nothing)."""

from __future__ import annotations

import random

import pytest
from google.protobuf.message import DecodeError

from apiserver.endpoints.request import MAX_REQUEST_BYTES
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import codec, resources
from tests.fuzz import grpc_door, grpc_mutate, samples

REQUESTS = [grpc_door.build(26, i, "fuzz") for i in range(3000)]


def test_a_seed_always_builds_the_same_requests() -> None:
    assert REQUESTS[:300] == [grpc_door.build(26, i, "fuzz") for i in range(300)]
    assert REQUESTS[:300] != [grpc_door.build(27, i, "fuzz") for i in range(300)]


def test_every_served_kind_and_verb_is_fuzzed() -> None:
    methods = {r.method for r in REQUESTS}
    for resource in resources.ALL:
        verbs = ["Create", "Update", "Delete", "Get", "List", "Watch"]
        verbs += ["UpdateStatus"] if resource.has_status else []
        for verb in verbs:
            assert f"/{resource.service}/{verb}" in methods


def test_some_requests_are_past_the_request_limit() -> None:
    assert any(len(r.body) > MAX_REQUEST_BYTES for r in REQUESTS)


@pytest.mark.parametrize("seed", range(20))
def test_a_string_field_made_invalid_utf8_does_not_decode(seed: int) -> None:
    pod, _ = codec.decode(core_pb2.Pod, samples.sample(resources.POD, "web", "fuzz"))
    broken = grpc_mutate.with_invalid_utf8(random.Random(seed), pod)
    assert broken is not None
    with pytest.raises(DecodeError):
        core_pb2.Pod.FromString(broken[0])


@pytest.mark.parametrize("seed", range(50))
def test_a_mutated_object_still_serializes(seed: int) -> None:
    rng = random.Random(seed)
    resource = rng.choice(resources.ALL)
    obj, _ = codec.decode(resource.message, samples.sample(resource, "web", "fuzz"))
    done = grpc_mutate.mutate(rng, obj, 3)
    assert len(done) == 3
    assert resource.message.FromString(obj.SerializeToString()) == obj
