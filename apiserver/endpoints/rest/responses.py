"""Responses of the REST door: JSON bodies (Kubernetes writes compact JSON; YAML or protobuf when
asked), a Status for errors, and the `Warning` headers kubectl prints
(k8s.io/apiserver/pkg/endpoints/warning: code 299)."""

from __future__ import annotations

import re
from collections.abc import Iterable

import yaml
from aiohttp import web

from apiserver import errors
from apiserver.admission.warnings import Recorder
from apiserver.endpoints.rest import protobuf_encode
from apiserver.endpoints.rest.protobuf_kinds import MEDIA_TYPE as PROTOBUF
from apiserver.endpoints.rest.status import failure
from podplane.apimachinery import flowcontrol, json_text
from podplane.apimachinery.json_types import JSONValue

JSON = "application/json"
YAML = "application/yaml"
# The status of a streamed answer (a watch, a log) once its headers are sent: what the request
# ended with when the client goes, which cancels its handler.
STREAMED_STATUS: web.RequestKey[int] = web.RequestKey("podplane.streamed_status")


def dumps(body: JSONValue) -> bytes:
    return json_text.dumps(body)


def json_response(
    body: JSONValue, status: int = 200, warnings: Iterable[str] = (), content_type: str = JSON
) -> web.Response:
    response = web.Response(body=dumps(body), status=status, content_type=content_type)
    add_warnings(response, warnings)
    return response


def yaml_response(body: JSONValue, status: int = 200, warnings: Iterable[str] = ()) -> web.Response:
    """The body as YAML, keys in order, as Kubernetes' YAML serializer writes it."""
    text = yaml.safe_dump(body, default_flow_style=False, allow_unicode=True, sort_keys=True)
    response = web.Response(
        body=json_text.scrub_text(text).encode(), status=status, content_type=YAML
    )
    add_warnings(response, warnings)
    return response


def protobuf_response(body: bytes, status: int = 200, warnings: Iterable[str] = ()) -> web.Response:
    """An answer already in Kubernetes' protobuf (protobuf_encode)."""
    response = web.Response(body=body, status=status, content_type=PROTOBUF)
    add_warnings(response, warnings)
    return response


async def start_stream(request: web.Request, content_type: str) -> web.StreamResponse:
    """A 200 answer streamed in chunks (watch events, log lines), its headers sent."""
    response = web.StreamResponse(status=200, headers={"Content-Type": content_type})
    response.enable_chunked_encoding()
    await response.prepare(request)
    request[STREAMED_STATUS] = response.status
    return response


def status_response(
    err: errors.APIError, as_yaml: bool = False, as_protobuf: bool = False
) -> web.Response:
    """The error's Status, as YAML or protobuf when the client asked for that first (Kubernetes
    negotiates an error's form as any answer's)."""
    code, body = failure(err)
    if as_protobuf:
        response = protobuf_response(protobuf_encode.status(body), code)
    elif as_yaml:
        response = yaml_response(body, code)
    else:
        response = json_response(body, code)
    if err.details is not None and err.details.retry_after_seconds:
        response.headers["Retry-After"] = str(err.details.retry_after_seconds)
    return response


# Kubernetes' limits on a response's warnings (k8s.io/apiserver/pkg/endpoints/filters/warning.go):
# past 4 Ki characters in all, each warning is cut to 256.
_WARNINGS_TOTAL_RUNES = 4 * 1024
_WARNING_RUNES = 256
# What a header cannot carry (RFC 9110: control characters but tab); Go's server writes CR and LF
# as spaces, and so does this one with all of them.
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f]")


def warning_header(message: str) -> str:
    """RFC 7234's warn-code 299, agent "-", the message quoted (what kubectl prints after
    `Warning: `)."""
    escaped = message.replace("\\", "\\\\").replace('"', '\\"')
    return f'299 - "{json_text.scrub_text(_CONTROL.sub(" ", escaped))}"'


def warning_headers(messages: Iterable[str]) -> list[str]:
    """The Warning headers of a response, as Kubernetes' warning recorder writes them: each
    message once, all of them cut to 256 characters once they pass 4 Ki in all."""
    unique = list(dict.fromkeys(m for m in messages if m))
    if sum(len(m) for m in unique) <= _WARNINGS_TOTAL_RUNES:
        return [warning_header(m) for m in unique]
    headers, written = [], 0
    for message in unique:
        if written >= _WARNINGS_TOTAL_RUNES:
            break
        cut = message[:_WARNING_RUNES]
        headers.append(warning_header(cut))
        written += len(cut)
    return headers


def add_warnings(response: web.StreamResponse, warnings: Iterable[str]) -> None:
    for header in warning_headers(warnings):
        response.headers.add("Warning", header)


# Warnings every answer to the request carries (a deprecated custom resource version's), added
# as the answer's headers are sent, whatever the answer is.
REQUEST_WARNINGS: web.RequestKey[tuple[str, ...]] = web.RequestKey("podplane.warnings")


# The request's admission recorder (its plugins' warnings), opened by the admission_recording
# filter.
ADMISSION_RECORDER: web.RequestKey[Recorder] = web.RequestKey("podplane.admission")


# The UIDs of the FlowSchema and PriorityLevelConfiguration API Priority and Fairness classified
# the request to, set by the flow_control filter.
FLOW_CONTROL_UIDS: web.RequestKey[tuple[str, str]] = web.RequestKey("podplane.apf")


async def add_flow_control_headers(request: web.Request, response: web.StreamResponse) -> None:
    """aiohttp's on_response_prepare: X-Kubernetes-PF-FlowSchema-UID and
    X-Kubernetes-PF-PriorityLevel-UID, as Kubernetes' filter sets them on every classified
    request's answer, served or refused (UIDs, not names, which are the operator's)."""
    uids = request.get(FLOW_CONTROL_UIDS)
    if uids is not None:
        response.headers[flowcontrol.FLOW_SCHEMA_UID_HEADER] = uids[0]
        response.headers[flowcontrol.PRIORITY_LEVEL_UID_HEADER] = uids[1]


async def add_request_warnings(request: web.Request, response: web.StreamResponse) -> None:
    """aiohttp's on_response_prepare: the request's warnings into the answer's headers."""
    recorder = request.get(ADMISSION_RECORDER)
    warnings = (*request.get(REQUEST_WARNINGS, ()), *(recorder.warnings if recorder else ()))
    if not warnings:
        return
    present = set(response.headers.getall("Warning", []))
    for header in warning_headers(warnings):
        if header not in present:
            response.headers.add("Warning", header)
