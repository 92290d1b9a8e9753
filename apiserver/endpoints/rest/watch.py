"""Watch over HTTP (k8s.io/apiserver/pkg/endpoints/handlers/watch.go): a chunked response of
newline-separated JSON events `{"type": "ADDED", "object": {...}}`, from the watch cache, until
timeoutSeconds or the client goes. With Accept as=Table each event carries a Table of one row
(the column definitions in the first only), which `kubectl get -w` prints. In Kubernetes'
protobuf (client-go's typed clients' informers), each event is a length-delimited WatchEvent
frame around the enveloped object (protobuf_encode.watch_frame). A resourceVersion the
cache no longer has is answered, as the cacher answers it, by one ERROR event holding the 410
Status ("too old resource version"): clients then list again."""

from __future__ import annotations

import random
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic

from aiohttp import web

from apiserver import errors
from apiserver.endpoints.rest import bodies, protobuf_encode, protobuf_kinds
from apiserver.endpoints.rest.negotiation import Form, accepted, include_object
from apiserver.endpoints.rest.request import ResourceRequest, int64, truthy
from apiserver.endpoints.rest.responses import dumps, start_stream
from apiserver.endpoints.rest.status import failure, not_acceptable
from apiserver.objects import T, WatchMessage, object_meta
from apiserver.registry.generic.codec import parse_resource_version
from apiserver.registry.generic.options import WatchOptions
from apiserver.registry.resource import ResourceAPI
from podplane.apimachinery import codec, selectors
from podplane.apimachinery.json_types import JSONObject
from podplane.printers.table import build_table

# Events per chunk: what is queued when the stream is ready to write goes out in one write.
MAX_EVENTS_PER_WRITE = 100
# Without timeoutSeconds, a watch lasts --min-request-timeout (1800 s) to twice that, as in
# Kubernetes, so that long-lived clients spread over time and servers.
MIN_REQUEST_TIMEOUT = 1800


def _timeout(value: str) -> int:
    if not value:
        return int(MIN_REQUEST_TIMEOUT * (1 + random.random()))
    return max(int64(value, "timeoutSeconds"), 0)


def named_field_selector(field_selector: str, name: str) -> str:
    """A watch of one object (/watch/namespaces/x/pods/<name>) is a watch of the objects named so;
    a field selector of its own may only say the same (Kubernetes' ListResource)."""
    if not name:
        return field_selector
    if not field_selector:
        return f"metadata.name={name}"
    try:
        selected = selectors.parse_fields(field_selector).exact("metadata.name")
    except selectors.SelectorError:
        selected = None
    if selected != name:
        raise errors.bad_request("fieldSelector metadata.name doesn't match requested name")
    return field_selector


class _EncodedEvents:
    """The JSON lines of recent events, shared by every watcher of the plain form: the watch
    cache hands one event to all the watchers it matches, and encoding it once per watcher
    (100 watchers, 100 encodings) slowed every writer. An event is named by its object's uid
    and resourceVersion and its type: the same name, the same bytes."""

    def __init__(self, capacity: int = 4096) -> None:
        self._lines: OrderedDict[tuple[str, str, str, str], bytes] = OrderedDict()
        self._capacity = capacity

    def line(self, plural: str, event: WatchMessage[T], encode: Callable[[], bytes]) -> bytes:
        meta = object_meta(event.object)
        key = (plural, event.type, meta.uid, meta.resource_version)
        line = self._lines.get(key)
        if line is None:
            line = self._lines[key] = encode()
            if len(self._lines) > self._capacity:
                self._lines.popitem(last=False)
        return line


_SHARED = _EncodedEvents()


class _Encoder(Generic[T]):
    """Events into lines, in the form the client accepted."""

    def __init__(self, request: web.Request, api: ResourceAPI[T]) -> None:
        self.resource = api.resource
        self.table = api.table
        self.form = accepted(request.headers.get("Accept", ""), self.resource)
        if self.form.yaml:
            raise not_acceptable()  # YAML has no stream form: Kubernetes answers 406 too
        self.include = include_object(request.query) if self.form.form is Form.TABLE else None
        self.headers_sent = False

    @property
    def content_type(self) -> str:
        return protobuf_kinds.WATCH_MEDIA_TYPE if self.form.protobuf else "application/json"

    def line(self, event: WatchMessage[T]) -> bytes:
        obj = event.object
        if event.type == "BOOKMARK":
            encoded: JSONObject = {
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
                spec=self.table,
            )
            self.headers_sent = True
        elif self.form.form is Form.METADATA:
            encoded = {
                "kind": "PartialObjectMetadata",
                "apiVersion": self.form.group_version,
                "metadata": codec.encode(object_meta(obj)),
            }
        else:
            # Keyed by apiVersion too: a custom resource's versions write one object apart.
            which = f"{self.resource.api_version}/{self.resource.plural}"
            return _SHARED.line(which, event, lambda: self._plain(event))
        return dumps({"type": event.type, "object": encoded}) + b"\n"

    def _plain(self, event: WatchMessage[T]) -> bytes:
        encoded = bodies.encode_object(self.resource, event.object)
        return dumps({"type": event.type, "object": encoded}) + b"\n"

    def frame(self, event: WatchMessage[T]) -> bytes:
        """The event in protobuf, shared as the JSON lines are (its own key)."""
        if event.type == "BOOKMARK":
            meta = {"metadata": codec.encode(object_meta(event.object))}
            return self._frame_of(event.type, meta)
        which = f"protobuf:{self.resource.api_version}/{self.resource.plural}"
        return _SHARED.line(
            which,
            event,
            lambda: self._frame_of(event.type, bodies.encode_object(self.resource, event.object)),
        )

    def _frame_of(self, event_type: str, body: JSONObject) -> bytes:
        r = self.resource
        return protobuf_encode.watch_frame(
            event_type, protobuf_encode.encode_object(r.api_version, r.kind, body)
        )

    def error(self, status: JSONObject) -> bytes:
        """The ERROR event that ends a watch, holding its Status."""
        if self.form.protobuf:
            return protobuf_encode.watch_frame("ERROR", protobuf_encode.status(status))
        return dumps({"type": "ERROR", "object": status}) + b"\n"


async def serve_watch(
    request: web.Request, req: ResourceRequest, api: ResourceAPI[T]
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
    field_selector = named_field_selector(q.get("fieldSelector", ""), req.name)
    api.store.selectors(q.get("labelSelector", ""), field_selector)
    parse_resource_version(q.get("resourceVersion", ""))
    encoder = _Encoder(request, api)
    options = WatchOptions(
        label_selector=q.get("labelSelector", ""),
        field_selector=field_selector,
        resource_version=q.get("resourceVersion", ""),
        allow_watch_bookmarks=truthy(q.get("allowWatchBookmarks")),
        timeout_seconds=_timeout(q.get("timeoutSeconds", "")),
    )
    events = api.watch_batches(req.namespace, options, max_batch=MAX_EVENTS_PER_WRITE)
    response = await start_stream(request, encoder.content_type)
    try:
        encode = encoder.frame if encoder.form.protobuf else encoder.line
        async for batch in events:
            await response.write(b"".join(encode(event) for event in batch))
        await response.write_eof()
    except errors.APIError as e:
        # A resourceVersion older than the cache and etcd keep (410 Expired, as the cacher
        # answers it), or the watch ended in an error: one ERROR event, then the end.
        _, status = failure(e)
        await response.write(encoder.error(status))
    except ConnectionResetError:
        pass  # the client went away
    finally:
        await events.aclose()  # type: ignore[attr-defined]
    return response
