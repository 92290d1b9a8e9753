"""A webhook's HTTP answer to the JSON object it carries, failing as client-go's rest.Result.Into
fails for kube-apiserver's webhook client (k8s.io/client-go/rest/request.go, the JSON
serializer's meta.Interpret): an HTTP error is the Status the body holds or
apierrors.NewGenericServerResponse's text, an empty body `0-length response ...`, and a body whose
top level is not an object, or not JSON, `couldn't get version/kind; json parse error: ...` with
Go's encoding/json text. A body that does not begin with `{` is read as YAML first, as client-go's
decoder does; YAML that does not parse is reported with PyYAML's description, not go-yaml's."""

from __future__ import annotations

import json

import yaml

from apiserver.webhook.errors import DecodeError, ServerError
from podplane.apimachinery.go_json import syntax_error
from podplane.apimachinery.json_types import JSONObject, JSONValue
from podplane.apimachinery.structural.field import go_quote

# client-go caps the text of an unstructured error.
MAX_UNSTRUCTURED_TEXT = 2048
_FIND_KIND = (
    'struct { APIVersion string "json:\\"apiVersion,omitempty\\""; '
    'Kind string "json:\\"kind,omitempty\\"" }'
)
_GENERIC: dict[int, tuple[str, str]] = {
    400: ("BadRequest", "the server rejected our request for an unknown reason"),
    401: ("Unauthorized", "the server has asked for the client to provide credentials"),
    404: ("NotFound", "the server could not find the requested resource"),
    405: ("MethodNotAllowed", "the server does not allow this method on the requested resource"),
    409: ("AlreadyExists", "the server reported a conflict"),
    422: ("Invalid", "the server rejected our request due to an error in our request"),
    429: (
        "TooManyRequests",
        "the server has received too many requests and has asked us to try again later",
    ),
    503: ("ServiceUnavailable", "the server is currently unable to handle the request"),
    504: (
        "Timeout",
        "the server was unable to return a response in the time allotted, but may still be "
        "processing the request",
    ),
}


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def generic_server_response(code: int, server_message: str) -> JSONObject:
    """apierrors.NewGenericServerResponse for a POST with no resource (a webhook call)."""
    reason, message = (
        "Unknown",
        (f"the server responded with the status code {code} but did not return more information"),
    )
    if code in _GENERIC:
        reason, message = _GENERIC[code]
    elif code in (403, 415) or (code == 406 and server_message not in ("", "unknown")):
        reason = {403: "Forbidden", 406: "NotAcceptable", 415: "UnsupportedMediaType"}[code]
        message = server_message
    elif code == 406:
        reason = "NotAcceptable"
        message = "the server was unable to respond with a content type that the client supports"
    elif code >= 500:
        reason = "InternalError"
        message = (
            f"an error on the server ({go_quote(server_message)}) "
            "has prevented the request from succeeding"
        )
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "details": {"causes": [{"reason": "UnexpectedServerResponse", "message": server_message}]},
        "code": code,
    }


def _failure_status(body: bytes) -> JSONObject | None:
    """A metav1.Status with status Failure in the body, which client-go prefers as the error."""
    try:
        obj = json.loads(body)
    except ValueError:
        return None
    if isinstance(obj, dict) and obj.get("kind") == "Status" and obj.get("status") == "Failure":
        return obj
    return None


def _http_error(code: int, content_type: str | None, body: bytes) -> ServerError:
    status = _failure_status(body)
    if status is not None:
        return ServerError(str(status.get("message", "")), status)
    is_text = not content_type or _media_type(content_type).startswith("text/")
    message = "unknown"
    if is_text:
        message = body[:MAX_UNSTRUCTURED_TEXT].decode("utf-8", "replace").strip()
    status = generic_server_response(code, message)
    return ServerError(str(status["message"]), status)


def _go_json_type(value: JSONValue) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, list):
        return "array"
    return "string"


def not_an_object(value: JSONValue) -> str:
    """The JSON serializer's text for a document whose top level is not an object."""
    return (
        "couldn't get version/kind; json parse error: json: cannot unmarshal "
        f"{_go_json_type(value)} into Go value of type {_FIND_KIND}"
    )


def decode_response(code: int, content_type: str | None, body: bytes) -> JSONObject:
    """The answer's JSON object; ServerError for an HTTP error, DecodeError for a body that is
    not an object."""
    if code < 200 or code > 206:
        raise _http_error(code, content_type, body)
    if not body:
        raise DecodeError(
            f"0-length response with status code: {code} and content type: "
            f"{content_type or 'application/json'}"
        )
    if body.lstrip()[:1] == b"{":
        try:
            value: JSONValue = json.loads(body)
        except ValueError as e:
            error = syntax_error(body) or str(e)
            raise DecodeError(f"couldn't get version/kind; json parse error: {error}") from e
    else:  # client-go's YAML decoder reads what does not start as a JSON object
        try:
            value = yaml.safe_load(body)
        except yaml.YAMLError as e:
            raise DecodeError(f"error converting YAML to JSON: {e}") from e
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise DecodeError(not_an_object(value))
    api_version = value.get("apiVersion")
    if isinstance(api_version, str) and api_version.count("/") > 1:
        raise DecodeError(f"unexpected GroupVersion string: {api_version}")
    return value
