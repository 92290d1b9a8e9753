"""The kubelet's HTTPS API's endpoints (pkg/kubelet/server/server.go's default handlers, the
stats and metrics ones): /healthz, /pods, /stats/summary, /metrics, /metrics/resource,
/metrics/cadvisor, /metrics/probes, /containerLogs/<namespace>/<pod>/<container>, and
/portForward/<namespace>/<pod> over a WebSocket (kubelet/server/port_forward_websocket.py)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import prometheus_client
from aiohttp import web

from kubelet.prober import metrics as prober_metrics
from kubelet.runtime.types import ContainerRuntime, ContainerRuntimeError
from kubelet.server.port_forward_websocket import PortForwardWebSocket
from kubelet.server.servicer import KubeletServicer, LogRequestError
from kubelet.stats.cadvisor_metrics import cadvisor_metrics
from kubelet.stats.prometheus_text import CONTENT_TYPE
from kubelet.stats.provider import StatsProvider
from kubelet.stats.resource_metrics import resource_metrics
from podplane.api.core.v1 import core_pb2
from podplane.api.kubelet.v1 import kubelet_pb2
from podplane.apimachinery import codec
from podplane.apimachinery.json_types import JSONObject
from podplane.componentbase import exposition

log = logging.getLogger(__name__)


def _text(body: str, status: int = 200, content_type: str = "text/plain") -> web.Response:
    response = web.Response(status=status, body=body.encode())
    response.headers["Content-Type"] = content_type
    return response


def _metrics(body: str | bytes) -> web.Response:
    data = body if isinstance(body, bytes) else body.encode()
    return web.Response(body=data, headers={"Content-Type": CONTENT_TYPE})


def _json(obj: JSONObject) -> web.Response:
    return web.Response(body=json.dumps(obj).encode(), content_type="application/json")


def _int(query: dict[str, str], key: str) -> int | None:
    value = query.get(key, "")
    return int(value) if value.lstrip("-").isdigit() else None


def _truthy(value: str | None) -> bool:
    return value is not None and value.lower() in ("true", "1", "")


class Handlers:
    def __init__(
        self,
        runtime: ContainerRuntime,
        pods: Callable[[], list[core_pb2.Pod]],
        get_pod: Callable[[str], core_pb2.Pod | None],
        stats: StatsProvider,
    ) -> None:
        self.runtime = runtime
        self.pods = pods
        self.stats = stats
        self.logs = KubeletServicer(runtime, get_pod)
        self.port_forward = PortForwardWebSocket(runtime, get_pod)

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/healthz", self.healthz),
            web.get("/pods", self.list_pods),
            web.get("/pods/", self.list_pods),
            web.get("/stats/summary", self.summary),
            web.get("/metrics", self.kubelet_metrics),
            web.get("/metrics/resource", self.resource),
            web.get("/metrics/cadvisor", self.cadvisor),
            web.get("/metrics/probes", self.probes),
            web.get("/containerLogs/{namespace}/{pod}/{container}", self.container_logs),
            *self.port_forward.routes(),
        ]

    async def healthz(self, request: web.Request) -> web.Response:
        return _text("ok")

    async def list_pods(self, request: web.Request) -> web.Response:
        items = [codec.encode(p) for p in self.pods()]
        return _json({"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": items})

    async def summary(self, request: web.Request) -> web.Response:
        try:
            return _json(await self.stats.summary())
        except ContainerRuntimeError as e:
            return _text(f"failed to get stats summary: {e}", 500)

    async def resource(self, request: web.Request) -> web.Response:
        try:
            summary: JSONObject | None = await self.stats.summary()
        except ContainerRuntimeError as e:
            log.error("error getting summary for resourceMetric prometheus endpoint: %s", e)
            summary = None
        return _metrics(resource_metrics(summary))

    async def cadvisor(self, request: web.Request) -> web.Response:
        try:
            _, samples = await self.stats.recent()
        except ContainerRuntimeError as e:
            log.error("error reading container stats for /metrics/cadvisor: %s", e)
            return _metrics(cadvisor_metrics(None, {}))
        return _metrics(cadvisor_metrics(samples.pods, samples.images))

    async def kubelet_metrics(self, request: web.Request) -> web.Response:
        return _metrics(exposition.text(prometheus_client.REGISTRY))

    async def probes(self, request: web.Request) -> web.Response:
        return _metrics(exposition.text(prober_metrics.REGISTRY))

    async def container_logs(self, request: web.Request) -> web.StreamResponse:
        """The container's log as text (getContainerLogs): follow, previous, tailLines,
        timestamps, sinceSeconds and limitBytes as kubectl's pods/log passes them on."""
        info, q = request.match_info, dict(request.query)
        logs_request = kubelet_pb2.ContainerLogsRequest(
            namespace=info["namespace"],
            pod_name=info["pod"],
            container=info["container"],
            follow=_truthy(q.get("follow")),
            previous=_truthy(q.get("previous")),
            timestamps=_truthy(q.get("timestamps")),
        )
        for key, field in (("tailLines", "tail_lines"), ("sinceSeconds", "since_seconds")):
            value = _int(q, key)
            if value is not None:
                setattr(logs_request, field, value)
        limit = _int(q, "limitBytes")
        if self.logs.get_pod(f"{info['namespace']}/{info['pod']}") is None:
            return _text(f'pod "{info["pod"]}" does not exist', 404)
        try:
            instance, options = await self.logs.resolve_log(logs_request)
        except LogRequestError as e:
            return _text(e.message, 404 if "not found" in e.message else 400)
        except ContainerRuntimeError as e:
            return _text(str(e), 500)
        response = web.StreamResponse(headers={"Content-Type": "text/plain"})
        await response.prepare(request)
        sent = 0
        # A limited read is not a whole one: only whole reads count as served (log_reads.py).
        reader = self.logs.log_reads.read if limit is None else self.runtime.container_logs
        try:
            async for chunk in reader(instance.id, options):
                if limit is not None:
                    chunk = chunk[: max(limit - sent, 0)]
                await response.write(chunk)
                sent += len(chunk)
                if limit is not None and sent >= limit:
                    break
        except (ContainerRuntimeError, ConnectionResetError) as e:
            log.info("log stream of %s ended: %s", info["container"], e)
        await response.write_eof()
        return response
