"""Responses of the REST door: JSON bodies (Kubernetes writes compact JSON), a Status for errors,
and the `Warning` headers kubectl prints (k8s.io/apiserver/pkg/endpoints/warning: code 299)."""

from __future__ import annotations

import json
from collections.abc import Iterable

import yaml
from aiohttp import web

from apiserver import errors
from apiserver.endpoints.rest.status import failure
from podplane.apimachinery.json_types import JSONValue

JSON = "application/json"
YAML = "application/yaml"
# The status of a streamed answer (a watch, a log) once its headers are sent: what the request
# ended with when the client goes, which cancels its handler.
STREAMED_STATUS: web.RequestKey[int] = web.RequestKey("podplane.streamed_status")


def dumps(body: JSONValue) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def json_response(
    body: JSONValue, status: int = 200, warnings: Iterable[str] = (), content_type: str = JSON
) -> web.Response:
    response = web.Response(body=dumps(body), status=status, content_type=content_type)
    add_warnings(response, warnings)
    return response


def yaml_response(body: JSONValue, status: int = 200, warnings: Iterable[str] = ()) -> web.Response:
    """The body as YAML, keys in order, as Kubernetes' YAML serializer writes it."""
    text = yaml.safe_dump(body, default_flow_style=False, allow_unicode=True, sort_keys=True)
    response = web.Response(text=text, status=status, content_type=YAML)
    add_warnings(response, warnings)
    return response


async def start_stream(request: web.Request, content_type: str) -> web.StreamResponse:
    """A 200 answer streamed in chunks (watch events, log lines), its headers sent."""
    response = web.StreamResponse(status=200, headers={"Content-Type": content_type})
    response.enable_chunked_encoding()
    await response.prepare(request)
    request[STREAMED_STATUS] = response.status
    return response


def status_response(err: errors.APIError) -> web.Response:
    code, body = failure(err)
    response = json_response(body, code)
    if err.details is not None and err.details.retry_after_seconds:
        response.headers["Retry-After"] = str(err.details.retry_after_seconds)
    return response


def warning_header(message: str) -> str:
    """RFC 7234's warn-code 299, agent "-", the message quoted (what kubectl prints after
    `Warning: `)."""
    escaped = message.replace("\\", "\\\\").replace('"', '\\"')
    return f'299 - "{escaped}"'


def add_warnings(response: web.StreamResponse, warnings: Iterable[str]) -> None:
    for message in warnings:
        response.headers.add("Warning", warning_header(message))
