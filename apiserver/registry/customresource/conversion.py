"""A custom resource version's conversion webhook (k8s.io/apiextensions-apiserver/pkg/apiserver/
conversion/webhook_converter.go), as the generic store's VersionConverter: objects read from
etcd at another version are converted to the served one, a list's in one ConversionReview; an
object written at the served version is converted to the storage version before it is encoded,
after the served version's defaulting, pruning, admission and validation (as kube-apiserver's
storage codec converts it). Objects already at the desired version are not sent. A failed
conversion is Kubernetes' error: a 500 whose message is the converter's text (`conversion webhook
for stable.example.com/v2, Kind=CronTab failed: ...`), as apiserver's handlers answer an error
that is not a Status."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import grpc

from apiserver import errors
from apiserver.registry.cacher import Cacher
from apiserver.registry.customresource.conversion_review import (
    ConversionError,
    converted_objects,
    gvk,
    new_request,
    restore_object_meta,
    review_version,
    validate_converted,
)
from apiserver.registry.customresource.storage import defaulted
from apiserver.registry.customresource.strategy import normalized
from apiserver.webhook.cached import cached_service_client
from apiserver.webhook.client import ClientConfigError, WebhookClient
from apiserver.webhook.config import ClientConfig, client_config_from_json
from apiserver.webhook.errors import CallError
from podplane.api.apiextensions.v1.custom_objects_pb2 import CustomObject
from podplane.apimachinery import codec
from podplane.apimachinery.apiextensions import definitions
from podplane.apimachinery.apiextensions.definitions import CRD
from podplane.apimachinery.codec import FieldValidation
from podplane.apimachinery.json_types import JSONObject
from podplane.apimachinery.structural import CustomResourceSchema

# Kubernetes' conversion webhooks are called within 30 seconds (webhook.DefaultRequestTimeout's
# default in the client manager, there being no timeoutSeconds in a conversion's config).
CONVERSION_TIMEOUT = 30.0
WEBHOOK = "Webhook"


@dataclass(frozen=True)
class WebhookConversion:
    """A definition's spec.conversion.webhook, as the client calls it."""

    config: ClientConfig
    review_versions: list[str]


def webhook_conversion(crd: CRD) -> WebhookConversion | None:
    """The definition's conversion webhook; None with conversion None."""
    conversion = crd.spec.conversion
    if conversion.strategy != WEBHOOK:
        return None
    webhook = codec.encode(conversion.webhook)
    client_json = webhook.get("clientConfig")
    config = client_config_from_json(client_json if isinstance(client_json, dict) else {})
    return WebhookConversion(config, list(conversion.webhook.conversion_review_versions))


def failure(text: str) -> errors.APIError:
    """A conversion error as the handlers answer it: 500, reason unknown, the error's text."""
    return errors.APIError(grpc.StatusCode.INTERNAL, "", text)


class WebhookConverter:
    """Converts one served version's objects with the definition's webhook."""

    def __init__(
        self,
        client: WebhookClient,
        conversion: WebhookConversion,
        crd: CRD,
        version: str,
        schemas: dict[str, CustomResourceSchema | None],
    ) -> None:
        self.client = client
        self.conversion = conversion
        group = crd.spec.group
        self.served = f"{group}/{version}"
        self.storage = f"{group}/{definitions.storage_version(crd)}"
        self.kind = crd.spec.names.kind
        self.list_kind = crd.spec.names.list_kind or f"{self.kind}List"
        self.schemas = {f"{group}/{name}": schema for name, schema in schemas.items()}

    # ------------------------------------------------------------------ VersionConverter
    async def to_served(self, objects: list[CustomObject]) -> list[CustomObject]:
        """Objects read from etcd, at the served version (defaulted by its schema)."""
        if len(objects) == 1:
            described = gvk(objects[0].api_version, objects[0].kind or self.kind)
        else:
            described = gvk(self.storage, self.list_kind)
        return await self._convert(objects, self.served, described, single=len(objects) == 1)

    async def to_storage(self, obj: CustomObject) -> CustomObject:
        """An object about to be written, at the storage version."""
        described = gvk(obj.api_version, obj.kind or self.kind)
        return (await self._convert([obj], self.storage, described, single=True))[0]

    # ------------------------------------------------------------------ converting
    async def _convert(
        self, objects: list[CustomObject], desired: str, described: str, *, single: bool
    ) -> list[CustomObject]:
        schema = self.schemas.get(desired)
        out = list(objects)
        pending = [i for i, o in enumerate(objects) if o.api_version != desired]
        for i, obj in enumerate(objects):
            if obj.api_version == desired:
                out[i] = _defaulted(obj, schema)
        if not pending:
            return out
        # Defaulted at the version they are at, as kube-apiserver's storage codec defaults what
        # it decodes before converting it.
        originals = [
            codec.encode(_defaulted(objects[i], self.schemas.get(objects[i].api_version)))
            for i in pending
        ]
        answered = await self._call(originals, desired, described)
        for n, (i, original, converted) in enumerate(
            zip(pending, originals, answered, strict=True)
        ):
            checked = _checked(original, converted, desired, described, n, single)
            obj, _ = codec.decode(CustomObject, checked, FieldValidation.IGNORE)
            normalized(schema, obj)
            out[i] = obj
        return out

    async def _call(
        self, originals: list[JSONObject], desired: str, described: str
    ) -> list[object]:
        """The webhook's converted objects, as many as were sent."""
        try:  # createConversionReviewObjects' error is returned as it is
            version = review_version(self.conversion.review_versions)
        except ConversionError as e:
            raise failure(str(e)) from e
        try:
            uid, body = new_request(version, originals, desired)
            answer = await self.client.post(self.conversion.config, body, CONVERSION_TIMEOUT)
            objects = converted_objects(version, uid, answer)
        except (ConversionError, CallError, ClientConfigError) as e:
            raise failure(f"conversion webhook for {described} failed: {e}") from e
        if len(objects) != len(originals):
            raise failure(
                f"conversion webhook for {described} returned {len(objects)} objects, "
                f"expected {len(originals)}"
            )
        return list(objects)


def _defaulted(obj: CustomObject, schema: CustomResourceSchema | None) -> CustomObject:
    defaulted(obj, schema)
    return obj


def _checked(
    original: JSONObject,
    converted: object,
    desired: str,
    described: str,
    index: int,
    single: bool,
) -> JSONObject:
    """One converted object, checked and with the original's metadata (Convert's list and
    single-object branches, each with its texts; the list's name the index after the one
    converted, as Kubernetes' counter has moved on by then)."""
    prefix = f"conversion webhook for {described} returned invalid"
    where = "object at index 0" if single else f"converted object at index {index + 1}"
    if not isinstance(converted, dict):  # podplane's words: Go fails to decode it
        at = "object at index 0" if single else f"converted object at index {index}"
        raise failure(f"{prefix} {at}: not a JSON object")
    api_version = str(converted.get("apiVersion") or "")
    if api_version != desired:
        raise failure(
            f"{prefix} {where}: invalid groupVersion (expected {desired}, received {api_version})"
        )
    if converted.get("kind") != original.get("kind"):
        raise failure(
            f"{prefix} {where}: invalid kind (expected {original.get('kind')}, received "
            f"{converted.get('kind') or ''})"
        )
    try:
        validate_converted(original, converted)
    except ConversionError as e:
        raise failure(f"{prefix} {'object' if single else where}: {e}") from e
    try:
        restore_object_meta(original, converted)
    except ConversionError as e:
        meta_where = "metadata" if single else f"metadata in object at index {index + 1}"
        raise failure(
            f"conversion webhook for {described} returned invalid {meta_where}: {e}"
        ) from e
    return converted


def webhook_client(cachers: Mapping[str, Cacher[Any]]) -> WebhookClient:
    """The conversion webhooks' client: a Service is resolved to a ready endpoint of its
    EndpointSlices, both read from the watch caches (kube-apiserver's listers); without those
    caches only webhooks at a URL can be called."""
    services, slices = cachers.get("services"), cachers.get("endpointslices")
    if services is None or slices is None:
        return WebhookClient()

    return cached_service_client(services, slices)
