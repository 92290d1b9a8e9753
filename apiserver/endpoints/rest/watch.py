"""Watch over HTTP (k8s.io/apiserver/pkg/endpoints/handlers/watch.go): a chunked response of
newline-separated JSON events `{"type": "ADDED", "object": {...}}`, from the watch cache, until
timeoutSeconds or the client goes. With Accept as=Table each event carries a Table of one row
(the column definitions in the first only), which `kubectl get -w` prints. A resourceVersion the
cache no longer has is answered, as the cacher answers it, by one ERROR event holding the 410
Status ("too old resource version"): clients then list again."""

from __future__ import annotations

import random
from typing import Any

from aiohttp import web

from apiserver import errors
from apiserver.endpoints.rest import bodies
from apiserver.endpoints.rest.negotiation import Form, accepted, include_object
from apiserver.endpoints.rest.request import ResourceRequest, truthy
from apiserver.endpoints.rest.responses import dumps
from apiserver.endpoints.rest.status import failure
from apiserver.objects import WatchMessage, object_meta
from apiserver.registry.resource import ResourceAPI
from apiserver.registry.store import parse_resource_version
from podplane.apimachinery import codec
from podplane.printers.table import build_table

# Events per chunk: what is queued when the stream is ready to write goes out in one write.
MAX_EVENTS_PER_WRITE = 100
# Without timeoutSeconds, a watch lasts --min-request-timeout (1800 s) to twice that, as in
# Kubernetes, so that long-lived clients spread over time and servers.
MIN_REQUEST_TIMEOUT = 1800


def _timeout(value: str) -> int:
    if not value:
        return int(MIN_REQUEST_TIMEOUT * (1 + random.random()))
    try:
        seconds = int(value)
    except ValueError:
        raise errors.bad_request(
            f'timeoutSeconds: Invalid value: "{value}": must be an integer'
        ) from None
    return max(seconds, 0)


class _Encoder:
    """Events into lines, in the form the client accepted."""

    def __init__(self, request: web.Request, api: ResourceAPI[Any]) -> None:
        self.resource = api.resource
        self.form = accepted(request.headers.get("Accept", ""))
        self.include = include_object(request.query) if self.form.form is Form.TABLE else None
        self.headers_sent = False

    def line(self, event: WatchMessage[Any]) -> bytes:
        obj = event.object
        if event.type == "BOOKMARK":
            encoded: dict[str, Any] = {
                "kind": self.resource.kind,
                "apiVersion": self.resource.api_version,
                "metadata": codec.encode(object_meta(obj)),
            }
        elif self.include is not None:
            encoded = build_table(
                self.resource,
                [obj],
                encode=codec.encode,
                include_object=self.include,
                resource_version=object_meta(obj).resource_version,
                no_headers=self.headers_sent,
                group_version=self.form.group_version,
            )
            self.headers_sent = True
        elif self.form.form is Form.METADATA:
            encoded = {
                "kind": "PartialObjectMetadata",
                "apiVersion": self.form.group_version,
                "metadata": codec.encode(object_meta(obj)),
            }
        else:
            encoded = bodies.encode_object(self.resource, obj)
        return dumps({"type": event.type, "object": encoded}) + b"\n"


async def serve_watch(
    request: web.Request, req: ResourceRequest, api: ResourceAPI[Any]
) -> web.StreamResponse:
    q = request.query
    if truthy(q.get("sendInitialEvents")):
        raise errors.bad_request(
            "sendInitialEvents: Forbidden: this server does not support "
            "streaming lists (the WatchList feature); list, then watch"
        )
    # The request's own mistakes are an ordinary error answer, as Kubernetes' Watch refuses
    # them before serving; once the watch is open, its headers go out at once (watch.go's
    # WriteHeader and Flush before the first event): client-go's Watch returns only when
    # they arrive, and `kubectl wait` on an object already in its state waited for the first
    # event, or the watch's timeout, before it could exit.
    api.store.selectors(q.get("labelSelector", ""), q.get("fieldSelector", ""))
    parse_resource_version(q.get("resourceVersion", ""))
    encoder = _Encoder(request, api)
    events = api.watch_batches(
        req.namespace,
        resource_version=q.get("resourceVersion", ""),
        label_selector=q.get("labelSelector", ""),
        field_selector=q.get("fieldSelector", ""),
        allow_bookmarks=truthy(q.get("allowWatchBookmarks")),
        timeout_seconds=_timeout(q.get("timeoutSeconds", "")),
        max_batch=MAX_EVENTS_PER_WRITE,
    )
    response = web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
    response.enable_chunked_encoding()
    await response.prepare(request)
    try:
        async for batch in events:
            await response.write(b"".join(encoder.line(event) for event in batch))
        await response.write_eof()
    except errors.APIError as e:
        # A resourceVersion older than the cache and etcd keep (410 Expired, as the cacher
        # answers it), or the watch ended in an error: one ERROR event, then the end.
        _, status = failure(e)
        await response.write(dumps({"type": "ERROR", "object": status}) + b"\n")
    except ConnectionResetError:
        pass  # the client went away
    finally:
        await events.aclose()  # type: ignore[attr-defined]
    return response
