"""Kubernetes' rules for an answer of the REST door, whatever was asked: never a 5xx; every
refusal a metav1.Status (as JSON, as YAML when YAML was asked for, or in Kubernetes' protobuf
when that was asked for first) whose reason is the one
Kubernetes gives its code (k8s.io/apimachinery/pkg/api/errors), whose code is the HTTP code, and
whose message a person can read (no traceback, no Python exception's name)."""

from __future__ import annotations

import json
import re

import yaml
from google.protobuf import json_format
from google.protobuf.message import DecodeError

from podplane.api.k8swire.meta.v1 import meta_pb2
from podplane.api.k8swire.runtime import runtime_pb2
from podplane.apimachinery.json_types import JSONValue

_PROTOBUF = "application/vnd.kubernetes.protobuf"

# The reasons Kubernetes gives each 4xx code.
REASONS: dict[int, frozenset[str]] = {
    400: frozenset({"BadRequest"}),
    401: frozenset({"Unauthorized"}),
    403: frozenset({"Forbidden"}),
    404: frozenset({"NotFound"}),
    405: frozenset({"MethodNotAllowed"}),
    406: frozenset({"NotAcceptable"}),
    409: frozenset({"AlreadyExists", "Conflict"}),
    410: frozenset({"Gone", "Expired"}),
    413: frozenset({"RequestEntityTooLarge"}),
    415: frozenset({"UnsupportedMediaType"}),
    422: frozenset({"Invalid"}),
    429: frozenset({"TooManyRequests"}),
}
# What only a Python exception's text has: a class name (UnicodeEncodeError), a traceback, a repr.
_PYTHON_LEAK = re.compile(r"Traceback|\b(?:[A-Z][a-z]+)+(?:Error|Exception)\b|<class |object at 0x")


def _decode(content_type: str, body: bytes) -> JSONValue:
    if content_type.startswith("application/yaml"):
        return yaml.safe_load(body)
    if content_type.startswith(_PROTOBUF):
        return _decode_protobuf_status(body)
    return json.loads(body)


def _decode_protobuf_status(body: bytes) -> JSONValue:
    """A Status in Kubernetes' protobuf: `k8s\\0`, then a runtime.Unknown naming its type around
    the metav1.Status message."""
    if not body.startswith(b"k8s\x00"):
        raise ValueError("no k8s\\0 magic")
    envelope = runtime_pb2.Unknown()
    status = meta_pb2.Status()
    try:
        envelope.ParseFromString(body[4:])
        status.ParseFromString(envelope.raw)
    except DecodeError as e:
        raise ValueError(str(e)) from None
    fields = json_format.MessageToDict(status, preserving_proto_field_name=True)
    return {"apiVersion": envelope.typeMeta.apiVersion, "kind": envelope.typeMeta.kind, **fields}


def judge(method: str, accept: str, code: int, content_type: str, body: bytes) -> str | None:
    """What is wrong with an answer, or None."""
    if code == 504 and b"Too large resource version" in body:
        # Kubernetes' own answer to a list at a resourceVersion the server has not reached
        # after waiting 3 s (a Timeout the client may retry): not a failure of the server.
        return _judge_status(accept, 504, content_type, body, frozenset({"Timeout"}))
    if code >= 500:
        return f"{code} {body[:300]!r}"
    if code < 400:
        return None
    if code not in REASONS:
        return f"{code} is not a code Kubernetes answers bad input with"
    if method == "HEAD":
        return None  # no body
    return _judge_status(accept, code, content_type, body, REASONS[code])


def _judge_status(
    accept: str, code: int, content_type: str, body: bytes, reasons: frozenset[str]
) -> str | None:
    try:
        status = _decode(content_type, body)
    except (ValueError, yaml.YAMLError):
        return f"{code} with a body that is not a Status ({content_type}): {body[:200]!r}"
    if not isinstance(status, dict) or status.get("kind") != "Status":
        return f"{code} with a body that is not a Status: {body[:200]!r}"
    if status.get("apiVersion") != "v1" or status.get("status") != "Failure":
        return f"{code} Status without apiVersion v1 and status Failure: {body[:200]!r}"
    if status.get("code") != code:
        return f"{code} Status whose code is {status.get('code')!r}"
    reason = status.get("reason")
    if reason not in reasons:
        return f"{code} Status whose reason is {reason!r}, not {sorted(reasons)}"
    message = status.get("message")
    if not isinstance(message, str) or not message.strip():
        return f"{code} Status without a message"
    leak = _PYTHON_LEAK.search(message)
    if leak:
        return f"{code} Status whose message shows Python ({leak.group()!r}): {message[:200]}"
    if accept.startswith("application/yaml") and not content_type.startswith("application/yaml"):
        return f"{code} Status as {content_type} when YAML was asked for"
    return None
