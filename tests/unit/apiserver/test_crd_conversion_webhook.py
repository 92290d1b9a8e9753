"""A custom resource version's conversion webhook converter (webhook_converter.go) over a fake
webhook client: what it sends (one ConversionReview v1 for a list, only the objects not at the
desired version, 30 s), and each unusable answer refused with Kubernetes' text, as a 500; only
labels and annotations are taken from the webhook's metadata."""

from __future__ import annotations

import copy
from collections.abc import Callable

import grpc
import pytest

from apiserver import errors
from apiserver.registry.customresource.conversion import (
    CONVERSION_TIMEOUT,
    WebhookConversion,
    WebhookConverter,
)
from apiserver.webhook.client import WebhookClient
from apiserver.webhook.config import ClientConfig
from apiserver.webhook.errors import DialError
from podplane.api.apiextensions.v1 import apiextensions_pb2
from podplane.api.apiextensions.v1.custom_objects_pb2 import CustomObject
from podplane.apimachinery import codec
from podplane.apimachinery.codec import FieldValidation
from podplane.apimachinery.json_types import JSONObject

GROUP = "stable.example.com"
CONFIG = ClientConfig(url="https://127.0.0.1:9443/convert")
Answer = Callable[[JSONObject], JSONObject]


class FakeClient(WebhookClient):
    """Answers with `answer(review)`, or raises `error`; records what it was sent."""

    def __init__(self, answer: Answer | None = None, error: Exception | None = None) -> None:
        super().__init__()
        self.answer = answer or convert
        self.error = error
        self.sent: list[tuple[JSONObject, float]] = []

    async def post(self, config: ClientConfig, body: JSONObject, timeout: float) -> JSONObject:
        self.sent.append((copy.deepcopy(body), timeout))
        if self.error is not None:
            raise self.error
        return self.answer(copy.deepcopy(body))


def convert(review: JSONObject, **changes: object) -> JSONObject:
    """A good webhook: spec.cronSpec (v1) <-> spec.schedule (v2)."""
    request = review["request"]
    desired = request["desiredAPIVersion"]
    out = []
    for obj in request["objects"]:
        spec = dict(obj.get("spec") or {})
        if desired.endswith("/v2"):
            spec["schedule"] = spec.pop("cronSpec", "")
        else:
            spec["cronSpec"] = spec.pop("schedule", "")
        out.append({**obj, "apiVersion": desired, "spec": spec})
    response = {"uid": request["uid"], "result": {"status": "Success"}, "convertedObjects": out}
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "ConversionReview",
        "response": response,
        **changes,
    }


def crd() -> apiextensions_pb2.CustomResourceDefinition:
    out = apiextensions_pb2.CustomResourceDefinition()
    out.metadata.name = f"crontabs.{GROUP}"
    out.spec.group = GROUP
    out.spec.names.kind = "CronTab"
    out.spec.names.list_kind = "CronTabList"
    out.spec.versions.add(name="v1", served=True, storage=True)
    out.spec.versions.add(name="v2", served=True, storage=False)
    return out


def converter(client: FakeClient, versions: tuple[str, ...] = ("v1",)) -> WebhookConverter:
    return WebhookConverter(
        client, WebhookConversion(CONFIG, list(versions)), crd(), "v2", {"v1": None, "v2": None}
    )


def crontab(name: str, version: str = "v1", **spec: str) -> CustomObject:
    data = {
        "apiVersion": f"{GROUP}/{version}",
        "kind": "CronTab",
        "metadata": {
            "name": name,
            "namespace": "default",
            "uid": f"uid-{name}",
            "resourceVersion": "7",
            "labels": {"team": "a"},
        },
        "spec": spec or {"cronSpec": "* * * * *"},
    }
    obj, _ = codec.decode(CustomObject, data, FieldValidation.STRICT)
    return obj


async def test_a_list_is_one_review_of_the_objects_not_at_the_desired_version() -> None:
    client = FakeClient()
    objects = [crontab("a"), crontab("b", "v2", schedule="@b"), crontab("c")]
    out = await converter(client).to_served(objects)
    [(review, timeout)] = client.sent
    assert timeout == CONVERSION_TIMEOUT == 30.0
    assert review["apiVersion"] == "apiextensions.k8s.io/v1"
    assert review["kind"] == "ConversionReview"
    assert review["request"]["desiredAPIVersion"] == f"{GROUP}/v2"
    assert [o["metadata"]["name"] for o in review["request"]["objects"]] == ["a", "c"]
    assert [(o.api_version, o.metadata.name, codec.encode(o)["spec"]) for o in out] == [
        (f"{GROUP}/v2", "a", {"schedule": "* * * * *"}),
        (f"{GROUP}/v2", "b", {"schedule": "@b"}),
        (f"{GROUP}/v2", "c", {"schedule": "* * * * *"}),
    ]
    assert [o.metadata.resource_version for o in out] == ["7", "7", "7"]


async def test_objects_at_the_desired_version_are_not_sent() -> None:
    client = FakeClient()
    out = await converter(client).to_storage(crontab("a"))
    assert client.sent == []
    assert out.api_version == f"{GROUP}/v1"


async def test_a_write_is_converted_to_the_storage_version() -> None:
    client = FakeClient()
    out = await converter(client).to_storage(crontab("a", "v2", schedule="@daily"))
    assert client.sent[0][0]["request"]["desiredAPIVersion"] == f"{GROUP}/v1"
    assert (out.api_version, codec.encode(out)["spec"]) == (
        f"{GROUP}/v1",
        {"cronSpec": "@daily"},
    )


async def test_labels_and_annotations_are_taken_and_the_rest_of_metadata_restored() -> None:
    def relabel(review: JSONObject) -> JSONObject:
        answer = convert(review)
        meta = answer["response"]["convertedObjects"][0]["metadata"]
        meta.update(labels={"team": "b"}, annotations={"x": "y"}, generation=99)
        meta.pop("resourceVersion")
        return answer

    [out] = await converter(FakeClient(relabel)).to_served([crontab("a")])
    assert dict(out.metadata.labels) == {"team": "b"}
    assert dict(out.metadata.annotations) == {"x": "y"}
    assert (out.metadata.generation, out.metadata.resource_version) == (0, "7")


def _answer(change: Callable[[JSONObject], None]) -> Answer:
    def answer(review: JSONObject) -> JSONObject:
        out = convert(review)
        change(out)
        return out

    return answer


def _first(change: Callable[[JSONObject], None]) -> Callable[[JSONObject], None]:
    return lambda answer: change(answer["response"]["convertedObjects"][0])


FOR = f"conversion webhook for {GROUP}/v1, Kind=CronTab"
LIST = f"conversion webhook for {GROUP}/v1, Kind=CronTabList"
CASES: list[tuple[str, Callable[[JSONObject], None], int, str]] = [
    (
        "another kind of review",
        lambda a: a.update(kind="AdmissionReview"),
        1,
        f"{FOR} failed: expected webhook response of apiextensions.k8s.io/v1, "
        "Kind=ConversionReview, got apiextensions.k8s.io/v1, Kind=AdmissionReview",
    ),
    ("no response", lambda a: a.pop("response"), 1, f"{FOR} failed: no response provided"),
    (
        "another uid",
        lambda a: a["response"].update(uid="other"),
        1,
        f'{FOR} failed: expected response.uid="UID", got "other"',
    ),
    (
        "a failure with a message",
        lambda a: a["response"].update(result={"status": "Failure", "message": "cannot"}),
        1,
        f"{FOR} failed: cannot",
    ),
    (
        "a failure without a message",
        lambda a: a["response"].update(result={"status": "Failure"}),
        1,
        f"{FOR} failed: response.result.status was 'Failure', not 'Success'",
    ),
    (
        "too few objects",
        lambda a: a["response"].update(convertedObjects=[]),
        1,
        f"{FOR} returned 0 objects, expected 1",
    ),
    (
        "another version",
        _first(lambda o: o.update(apiVersion=f"{GROUP}/v3")),
        1,
        f"{FOR} returned invalid object at index 0: invalid groupVersion (expected "
        f"{GROUP}/v2, received {GROUP}/v3)",
    ),
    (
        "another version in a list",
        _first(lambda o: o.update(apiVersion=f"{GROUP}/v3")),
        2,
        f"{LIST} returned invalid converted object at index 1: invalid groupVersion (expected "
        f"{GROUP}/v2, received {GROUP}/v3)",
    ),
    (
        "another kind",
        _first(lambda o: o.update(kind="Other")),
        1,
        f"{FOR} returned invalid object at index 0: invalid kind (expected CronTab, received "
        "Other)",
    ),
    (
        "another name",
        _first(lambda o: o["metadata"].update(name="b")),
        1,
        f"{FOR} returned invalid object: must have the same name: a != b",
    ),
    (
        "another namespace in a list",
        _first(lambda o: o["metadata"].update(namespace="kube-system")),
        2,
        f"{LIST} returned invalid converted object at index 1: must have the same namespace: "
        "default != kube-system",
    ),
    (
        "another uid in the object",
        _first(lambda o: o["metadata"].update(uid="x")),
        1,
        f"{FOR} returned invalid object: must have the same UID: uid-a != x",
    ),
    (
        "no metadata",
        _first(lambda o: o.pop("metadata")),
        1,
        f"{FOR} returned invalid object: must have the same name: a != ",
    ),
    (
        "labels that are not strings",
        _first(lambda o: o["metadata"].update(labels={"n": 1})),
        1,
        f"{FOR} returned invalid metadata: metadata.labels[n] must be a string, but is int64 "
        "in converted object",
    ),
    (
        "an invalid label value",
        _first(lambda o: o["metadata"].update(labels={"team": "a b"})),
        1,
        f'{FOR} returned invalid metadata: metadata.labels: Invalid value: "a b": a valid '
        "label must be an empty string or consist of alphanumeric characters, '-', '_' or "
        "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
        "'my_value',  or '12345', regex used for validation is "
        "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
    ),
]


@pytest.mark.parametrize(
    "change, count, message", [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
async def test_an_unusable_answer_is_refused_with_kubernetes_text(
    change: Callable[[JSONObject], None], count: int, message: str
) -> None:
    client = FakeClient(_answer(change))
    objects = [crontab("a"), crontab("b")][:count]
    with pytest.raises(errors.APIError) as refused:
        await converter(client).to_served(objects)
    uid = client.sent[0][0]["request"]["uid"]
    assert refused.value.code == grpc.StatusCode.INTERNAL
    assert refused.value.reason == ""
    assert refused.value.message == message.replace('"UID"', f'"{uid}"')


async def test_a_failed_call_is_wrapped_in_the_converters_words() -> None:
    down = DialError('Post "https://127.0.0.1:9443/convert?timeout=30s": dial tcp 127.0.0.1:9443')
    with pytest.raises(errors.APIError) as refused:
        await converter(FakeClient(error=down)).to_storage(crontab("a", "v2", schedule="@x"))
    assert refused.value.message == (
        f"conversion webhook for {GROUP}/v2, Kind=CronTab failed: Post "
        '"https://127.0.0.1:9443/convert?timeout=30s": dial tcp 127.0.0.1:9443'
    )


async def test_a_v1beta1_review_is_sent_first_when_listed_first_and_its_uid_not_checked() -> None:
    def any_uid(review: JSONObject) -> JSONObject:
        answer = convert(review, apiVersion="apiextensions.k8s.io/v1beta1")
        answer["response"]["uid"] = "whatever"
        return answer

    client = FakeClient(any_uid)
    [out] = await converter(client, ("v1beta1", "v1")).to_served([crontab("a")])
    assert client.sent[0][0]["apiVersion"] == "apiextensions.k8s.io/v1beta1"
    assert out.api_version == f"{GROUP}/v2"


async def test_no_known_review_version_fails() -> None:
    with pytest.raises(errors.APIError) as refused:
        await converter(FakeClient(), ("v2",)).to_served([crontab("a")])
    assert refused.value.message == "no supported conversion review versions"
