"""Waiting for deleted objects to be gone (kubectl delete --wait)."""

from __future__ import annotations

import asyncio
from typing import TypeVar

from google.protobuf.message import Message

from podctl.errors import CommandError
from podctl.resource.objects import object_name
from podplane.apimachinery.meta import object_meta
from podplane.apimachinery.resources import Resource
from podplane.client.clientset import ResourceClient, is_not_found

T = TypeVar("T", bound=Message)

POLL_INTERVAL = 0.5


async def wait_until_gone(
    api: ResourceClient[T], resource: Resource, name: str, namespace: str, uid: str, timeout: float
) -> None:
    """Returns once the object is gone (or replaced by a new one of the same name)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            obj = await api.get(name, namespace)
        except Exception as e:
            if is_not_found(e):
                return
            raise
        if uid and object_meta(obj).uid != uid:
            return
        if loop.time() >= deadline:
            raise CommandError(
                f"error: timed out waiting for the condition on {resource.plural}/{name}"
            )
        await asyncio.sleep(min(POLL_INTERVAL, max(deadline - loop.time(), 0)))


def deleted_message(resource: Resource, name: str, force: bool) -> str:
    """kubectl's `pod "jumpod" deleted` (`force deleted` for an immediate deletion)."""
    qualified = object_name(resource, name).rpartition("/")[0]
    return f'{qualified} "{name}" {"force deleted" if force else "deleted"}'
