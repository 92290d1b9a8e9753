"""The HTTPS server of metrics.k8s.io/v1beta1 (metrics-server's pkg/api): the resource list,
NodeMetrics of every node or one (`kubectl top node`), PodMetrics of a namespace's pods, every
pod's or one (`kubectl top pod`), each list filtered by `labelSelector` on the node's or pod's
labels; only what has two points of usage is listed, and one without is NotFound, as
metrics-server answers. Every request authenticated and authorized first (auth.py)."""

from __future__ import annotations

import ssl
import time
from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web

from metricsserver.api import objects, table
from metricsserver.api.auth import (
    ALWAYS_ALLOWED,
    Attributes,
    Authenticator,
    Authorizer,
    forbidden_message,
)
from metricsserver.storage import Storage
from podplane.apimachinery import selectors
from podplane.apimachinery.json_types import JSONObject
from podplane.printers.table import UnknownIncludeObject, parse_include_object

PREFIX = f"/apis/{objects.API_VERSION}"


class Snapshot:
    """The nodes' and pods' labels as last listed (metrics-server's informers)."""

    def __init__(self) -> None:
        self.nodes: dict[str, Mapping[str, str]] = {}
        self.pods: dict[tuple[str, str], Mapping[str, str]] = {}


def status(code: int, reason: str, message: str) -> web.Response:
    body: JSONObject = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    return web.json_response(body, status=code)


def _selector(request: web.Request) -> Callable[[Mapping[str, str]], bool]:
    text = request.query.get("labelSelector", "")
    if not text:
        return lambda labels: True
    try:
        parsed = selectors.parse_labels(text)
    except selectors.SelectorError as e:
        raise BadSelector(str(e)) from None
    return parsed.matches


class BadSelector(ValueError):
    """A labelSelector that does not parse: a 400 Status."""


def _answer(request: web.Request, answer: JSONObject, items: list[JSONObject]) -> web.Response:
    """The object or list, or the Table of its items when the client asks for one (kubectl
    get), rows carrying what includeObject says (Metadata when it says nothing)."""
    version = table.wants_table(request.headers.get("Accept", ""))
    if version is None:
        return web.json_response(answer)
    try:
        include = parse_include_object(request.query.get("includeObject", ""))
    except UnknownIncludeObject as e:
        return status(400, "BadRequest", str(e))
    return web.json_response(table.table(items, version, include))


def attributes(request: web.Request) -> Attributes:
    """The request's verb and resource (get of one object, list of many)."""
    parts = [p for p in request.path.split("/") if p]
    verb = "get" if request.method in ("GET", "HEAD") else request.method.lower()
    if parts[:3] != ["apis", objects.GROUP, objects.VERSION] or len(parts) == 3:
        return Attributes(verb, path=request.path)
    rest = parts[3:]
    namespace = ""
    if rest[:1] == ["namespaces"] and len(rest) >= 3:
        namespace, rest = rest[1], rest[2:]
    resource, name = rest[0], rest[1] if len(rest) > 1 else ""
    if verb == "get" and not name:
        verb = "list"
    return Attributes(verb, resource, namespace, name)


class MetricsAPI:
    def __init__(
        self,
        storage: Storage,
        snapshot: Snapshot,
        authenticator: Authenticator | None,
        authorizer: Authorizer | None,
        ready: Callable[[], bool],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.storage, self.snapshot = storage, snapshot
        self.authenticator, self.authorizer = authenticator, authorizer
        self.ready, self.clock = ready, clock

    def application(self) -> web.Application:
        app = web.Application(middlewares=[self._auth])
        app.add_routes(
            [
                web.get("/healthz", self._ok),
                web.get("/livez", self._ok),
                web.get("/readyz", self._readyz),
                web.get(PREFIX, self._resources),
                web.get(f"{PREFIX}/nodes", self._nodes),
                web.get(f"{PREFIX}/nodes/{{name}}", self._node),
                web.get(f"{PREFIX}/pods", self._pods),
                web.get(f"{PREFIX}/namespaces/{{namespace}}/pods", self._pods),
                web.get(f"{PREFIX}/namespaces/{{namespace}}/pods/{{name}}", self._pod),
            ]
        )
        return app

    @web.middleware
    async def _auth(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if self.authenticator is None or self.authorizer is None or request.path in ALWAYS_ALLOWED:
            return await handler(request)  # health: anyone, as the anonymous user may
        ssl_object = request.transport.get_extra_info("ssl_object") if request.transport else None
        peer = (
            ssl_object.getpeercert(binary_form=True)
            if isinstance(ssl_object, ssl.SSLObject)
            else None
        )
        headers: dict[str, list[str]] = {}
        for key, value in request.headers.items():
            headers.setdefault(key, []).append(value)
        user = await self.authenticator.user(
            peer, headers, request.headers.get("Authorization", "")
        )
        if user is None:
            return status(401, "Unauthorized", "Unauthorized")
        a = attributes(request)
        allowed, reason = await self.authorizer.allowed(user, a)
        if not allowed:
            return status(403, "Forbidden", forbidden_message(user, a, reason))
        return await handler(request)

    async def _ok(self, request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def _readyz(self, request: web.Request) -> web.Response:
        if not self.ready():
            return web.Response(
                status=500, text="[-]metric-storage-ready failed\nreadyz check failed"
            )
        return web.Response(text="ok")

    async def _resources(self, request: web.Request) -> web.Response:
        return web.json_response(objects.RESOURCE_LIST)

    def _node_object(self, name: str) -> JSONObject | None:
        usage = self.storage.node(name)
        labels = self.snapshot.nodes.get(name)
        if usage is None or labels is None:
            return None
        return objects.node_metrics(name, labels, usage, self.clock())

    def _pod_object(self, namespace: str, name: str) -> JSONObject | None:
        found = self.storage.pod(namespace, name)
        labels = self.snapshot.pods.get((namespace, name))
        if found is None or labels is None:
            return None
        pod, containers = found
        return objects.pod_metrics(namespace, name, labels, pod, containers, self.clock())

    async def _nodes(self, request: web.Request) -> web.Response:
        try:
            wanted = _selector(request)
        except BadSelector as e:
            return status(400, "BadRequest", str(e))
        items = [
            found
            for name, labels in sorted(self.snapshot.nodes.items())
            if wanted(labels) and (found := self._node_object(name)) is not None
        ]
        return _answer(request, objects.metrics_list("NodeMetricsList", items), items)

    async def _node(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        found = self._node_object(name)
        if found is None:
            return status(404, "NotFound", f'nodemetrics.metrics.k8s.io "{name}" not found')
        return _answer(request, found, [found])

    async def _pods(self, request: web.Request) -> web.Response:
        namespace = request.match_info.get("namespace", "")
        try:
            wanted = _selector(request)
        except BadSelector as e:
            return status(400, "BadRequest", str(e))
        items = [
            found
            for (ns, name), labels in sorted(self.snapshot.pods.items())
            if (not namespace or ns == namespace)
            and wanted(labels)
            and (found := self._pod_object(ns, name)) is not None
        ]
        return _answer(request, objects.metrics_list("PodMetricsList", items), items)

    async def _pod(self, request: web.Request) -> web.Response:
        namespace, name = request.match_info["namespace"], request.match_info["name"]
        found = self._pod_object(namespace, name)
        if found is None:
            return status(404, "NotFound", f'podmetrics.metrics.k8s.io "{name}" not found')
        return _answer(request, found, [found])
