"""A custom resource's verbs over gRPC (client-go's dynamic client, by resource): the
CustomObjects service, each request naming the resource's group, version and plural. A
ResourceClient like any kind's, so informers, the garbage collector and podctl use custom
resources as they use the built-in kinds:

    crontabs = client.custom_objects("stable.example.com", "v1", "crontabs")
    await crontabs.create(CustomObject(...))
    listed = await crontabs.list("default")"""

from __future__ import annotations

from typing import cast

import grpc

from podplane.api.apiextensions.v1 import custom_objects_pb2 as pb
from podplane.api.apiextensions.v1.custom_objects_pb2 import CustomObject
from podplane.apimachinery.meta import ObjectList
from podplane.apimachinery.resources import CustomResource, custom_resource
from podplane.client.resource_client import ResourceClient, WatchStream


def by_name(group: str, version: str, plural: str) -> CustomResource:
    """The resource a client names by its path alone (its kind and scope are the server's)."""
    return custom_resource(group, version, "", plural, namespaced=True)


class CustomObjectClient(ResourceClient[CustomObject]):
    """Create/Get/List/Watch/Update/UpdateStatus/Delete of one custom resource."""

    def __init__(self, channel: grpc.aio.Channel, resource: CustomResource, timeout: float):
        super().__init__(channel, resource, timeout)
        self._group, self._version, self._plural = (
            resource.group,
            resource.version,
            resource.plural,
        )

    async def create(self, obj: CustomObject, *, field_validation: str = "") -> CustomObject:
        request = pb.CustomObjectRequest(
            group=self._group,
            version=self._version,
            plural=self._plural,
            object=obj,
            field_validation=field_validation,
        )
        return cast(CustomObject, await self._call("Create", request))

    async def get(self, name: str, namespace: str = "", resource_version: str = "") -> CustomObject:
        request = pb.CustomObjectGetRequest(
            group=self._group,
            version=self._version,
            plural=self._plural,
            namespace=namespace,
            name=name,
            resource_version=resource_version,
        )
        return cast(CustomObject, await self._call("Get", request))

    async def list(
        self,
        namespace: str = "",
        *,
        label_selector: str = "",
        field_selector: str = "",
        resource_version: str = "",
        limit: int = 0,
        continue_token: str = "",
    ) -> ObjectList[CustomObject]:
        request = pb.CustomObjectListRequest(
            group=self._group,
            version=self._version,
            plural=self._plural,
            namespace=namespace,
            label_selector=label_selector,
            field_selector=field_selector,
            resource_version=resource_version,
            limit=limit,
            continue_token=continue_token,
        )
        return cast(ObjectList[CustomObject], await self._call("List", request))

    def watch(
        self,
        namespace: str = "",
        *,
        resource_version: str = "",
        label_selector: str = "",
        field_selector: str = "",
        allow_watch_bookmarks: bool = False,
        timeout_seconds: int = 0,
    ) -> WatchStream[CustomObject]:
        request = pb.CustomObjectWatchRequest(
            group=self._group,
            version=self._version,
            plural=self._plural,
            namespace=namespace,
            resource_version=resource_version,
            label_selector=label_selector,
            field_selector=field_selector,
            allow_watch_bookmarks=allow_watch_bookmarks,
            timeout_seconds=timeout_seconds,
            allow_watch_batches=True,
        )
        return WatchStream(self._stub.Watch(request, wait_for_ready=True))

    async def update(self, obj: CustomObject) -> CustomObject:
        request = pb.CustomObjectRequest(
            group=self._group, version=self._version, plural=self._plural, object=obj
        )
        return cast(CustomObject, await self._call("Update", request))

    async def update_status(self, obj: CustomObject) -> CustomObject:
        request = pb.CustomObjectRequest(
            group=self._group, version=self._version, plural=self._plural, object=obj
        )
        return cast(CustomObject, await self._call("UpdateStatus", request))

    async def delete(
        self,
        name: str,
        namespace: str = "",
        *,
        grace_period_seconds: int | None = None,
        resource_version: str = "",
        uid: str = "",
        propagation_policy: str = "",
    ) -> CustomObject:
        request = pb.CustomObjectDeleteRequest(
            group=self._group,
            version=self._version,
            plural=self._plural,
            namespace=namespace,
            name=name,
            propagation_policy=propagation_policy,
        )
        request.preconditions.uid = uid
        request.preconditions.resource_version = resource_version
        if grace_period_seconds is not None:
            request.grace_period_seconds = grace_period_seconds
        return cast(CustomObject, await self._call("Delete", request))
