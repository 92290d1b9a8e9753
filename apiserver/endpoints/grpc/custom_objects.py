"""The CustomObjects service: every custom resource's verbs over gRPC, each request naming the
group, version and plural of the resource it is about, as the REST door's path does. A thin
adapter, as the other servicers are: it finds the resource among the served ones and calls the
same ResourceAPI, so validation, admission, authorization (its interceptor reads the same
names) and storage are the REST door's."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc

from apiserver import errors
from apiserver.endpoints.grpc.servicers import MAX_WATCH_BATCH, manager_of
from apiserver.endpoints.grpc.status import api_errors_as_status
from apiserver.endpoints.grpc.watch_batches import batch_bytes
from apiserver.endpoints.object_type import cannot_handle, check_object_type
from apiserver.registry.generic.options import (
    DeleteOptions,
    ListOptions,
    Preconditions,
    WatchOptions,
)
from apiserver.registry.resource import ResourceAPI
from apiserver.registry.served import ServedResources
from podplane.api.apiextensions.v1 import custom_objects_pb2 as pb
from podplane.api.apiextensions.v1.custom_objects_pb2 import CustomObject
from podplane.apimachinery.codec import FieldValidation

API = ResourceAPI[CustomObject]


def _not_served(group: str, version: str, plural: str) -> errors.APIError:
    return errors.APIError(
        grpc.StatusCode.NOT_FOUND,
        "NotFound",
        f"the server could not find the requested resource: {plural}.{group}/{version} is not "
        "a served custom resource",
    )


class CustomObjectsServicer:
    def __init__(self, served: ServedResources) -> None:
        self.served = served

    def _api(self, group: str, version: str, plural: str) -> API:
        found = self.served.custom_version(group, version, plural)
        if found is None:
            raise _not_served(group, version, plural)
        return found.api

    def _object(self, api: API, request: pb.CustomObjectRequest) -> CustomObject:
        """The request's object, checked and pruned as the REST door decodes a body."""
        if request.field_validation not in ("", *(v.value for v in FieldValidation)):
            raise errors.bad_request(
                f'fieldValidation: Unsupported value: "{request.field_validation}": supported '
                'values: "Ignore", "Strict", "Warn"'
            )
        obj = request.object
        check_object_type(api.resource, obj.api_version, obj.kind)
        unknown = api.unknown_fields(obj)
        if unknown and request.field_validation == FieldValidation.STRICT.value:
            found = ", ".join(f'unknown field "{p}"' for p in unknown)
            raise cannot_handle(api.resource, "strict decoding error: " + found)
        return obj

    @api_errors_as_status
    async def Create(
        self, request: pb.CustomObjectRequest, context: grpc.aio.ServicerContext
    ) -> CustomObject:
        api = self._api(request.group, request.version, request.plural)
        return await api.create(
            self._object(api, request), dry_run=request.dry_run, manager=manager_of(context)
        )

    @api_errors_as_status
    async def Get(
        self, request: pb.CustomObjectGetRequest, context: grpc.aio.ServicerContext
    ) -> CustomObject:
        api = self._api(request.group, request.version, request.plural)
        return await api.get(request.namespace, request.name, request.resource_version)

    @api_errors_as_status
    async def List(
        self, request: pb.CustomObjectListRequest, context: grpc.aio.ServicerContext
    ) -> pb.CustomObjectList:
        api = self._api(request.group, request.version, request.plural)
        listed = await api.list(
            request.namespace,
            ListOptions(
                label_selector=request.label_selector,
                field_selector=request.field_selector,
                resource_version=request.resource_version,
                limit=request.limit,
                continue_=request.continue_token,
            ),
        )
        out = pb.CustomObjectList(api_version=api.resource.api_version, kind=api.resource.list_kind)
        out.metadata.CopyFrom(listed.metadata)
        out.items.extend(listed.items)
        return out

    @api_errors_as_status
    async def Watch(
        self, request: pb.CustomObjectWatchRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.CustomObjectWatchEvent | bytes]:
        api = self._api(request.group, request.version, request.plural)
        options = WatchOptions(
            label_selector=request.label_selector,
            field_selector=request.field_selector,
            resource_version=request.resource_version,
            allow_watch_bookmarks=request.allow_watch_bookmarks,
            timeout_seconds=request.timeout_seconds,
        )
        batches = api.watch_batches(
            request.namespace,
            options,
            max_batch=MAX_WATCH_BATCH if request.allow_watch_batches else 1,
        )
        async for batch in batches:
            if len(batch) > 1:  # as bytes (watch_batches), not a message copying each event
                yield batch_bytes(batch)
                continue
            event = batch[0]
            assert isinstance(event, pb.CustomObjectWatchEvent)
            yield event

    @api_errors_as_status
    async def Update(
        self, request: pb.CustomObjectRequest, context: grpc.aio.ServicerContext
    ) -> CustomObject:
        api = self._api(request.group, request.version, request.plural)
        return await api.update(
            self._object(api, request), dry_run=request.dry_run, manager=manager_of(context)
        )

    @api_errors_as_status
    async def UpdateStatus(
        self, request: pb.CustomObjectRequest, context: grpc.aio.ServicerContext
    ) -> CustomObject:
        api = self._api(request.group, request.version, request.plural)
        if not api.resource.has_status:
            raise errors.APIError(
                grpc.StatusCode.NOT_FOUND,
                "NotFound",
                f"the server could not find the requested resource: {request.plural}."
                f"{request.group}/{request.version} has no status subresource",
            )
        return await api.update_status(
            self._object(api, request), dry_run=request.dry_run, manager=manager_of(context)
        )

    @api_errors_as_status
    async def Delete(
        self, request: pb.CustomObjectDeleteRequest, context: grpc.aio.ServicerContext
    ) -> CustomObject:
        api = self._api(request.group, request.version, request.plural)
        options = DeleteOptions(
            grace_period_seconds=(
                request.grace_period_seconds if request.HasField("grace_period_seconds") else None
            ),
            preconditions=Preconditions(
                uid=request.preconditions.uid,
                resource_version=request.preconditions.resource_version,
            ),
            propagation_policy=request.propagation_policy,
            dry_run=request.dry_run,
        )
        deleted, _ = await api.delete(request.namespace, request.name, options)
        return deleted
