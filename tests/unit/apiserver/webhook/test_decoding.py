"""A webhook's HTTP answer decoded as client-go decodes it for kube-apiserver: HTTP errors as
the Status in the body or client-go's generic server response, and bodies that are not a JSON
object with the texts of client-go's decoder."""

from __future__ import annotations

import pytest

from apiserver.webhook.decoding import decode_response
from apiserver.webhook.errors import CallError, DecodeError, ServerError

KIND_STRUCT = (
    'struct { APIVersion string "json:\\"apiVersion,omitempty\\""; '
    'Kind string "json:\\"kind,omitempty\\"" }'
)
PARSE_ERROR = "couldn't get version/kind; json parse error: "
EMPTY = "0-length response with status code: 200 and content type: application/json"
NOT_AN_OBJECT = PARSE_ERROR + "json: cannot unmarshal %s into Go value of type " + KIND_STRUCT
ON_THE_SERVER = 'an error on the server ("{}") has prevented the request from succeeding'
JSON = "application/json"
TEXT = "text/plain"
END = "unexpected end of JSON input"
KEY_STRING = "invalid character 'a' looking for beginning of object key string"
NO_MORE = "the server responded with the status code {} but did not return more information"
TOO_MANY = "the server has received too many requests and has asked us to try again later"
DRAINING = b'{"kind":"Status","apiVersion":"v1","status":"Failure","message":"draining","code":503}'


@pytest.mark.parametrize(
    ("code", "content_type", "body", "error", "message"),
    [
        (200, JSON, b"", DecodeError, EMPTY),
        (200, None, b"", DecodeError, EMPTY),
        (200, TEXT, b"this is not JSON", DecodeError, NOT_AN_OBJECT % "string"),
        (200, JSON, b"[1, 2]", DecodeError, NOT_AN_OBJECT % "array"),
        (200, JSON, b'{"kind": "AdmissionReview",', DecodeError, PARSE_ERROR + END),
        (200, JSON, b"{allowed: true}", DecodeError, PARSE_ERROR + KEY_STRING),
        (
            200,
            JSON,
            b'{"apiVersion": "a/b/c"}',
            DecodeError,
            "unexpected GroupVersion string: a/b/c",
        ),
        (
            404,
            TEXT,
            b"404 page not found",
            ServerError,
            "the server could not find the requested resource",
        ),
        (500, TEXT + "; charset=utf-8", b"  boom \n", ServerError, ON_THE_SERVER.format("boom")),
        (502, JSON, b"{}", ServerError, ON_THE_SERVER.format("unknown")),
        (403, TEXT, b"go away", ServerError, "go away"),
        (418, TEXT, b"teapot", ServerError, NO_MORE.format(418)),
        (429, "", b"", ServerError, TOO_MANY),
        (503, JSON, DRAINING, ServerError, "draining"),
    ],
)
def test_an_unusable_answer_fails_with_client_gos_text(
    code: int, content_type: str | None, body: bytes, error: type[CallError], message: str
) -> None:
    with pytest.raises(error) as caught:
        decode_response(code, content_type, body)
    assert str(caught.value) == message
    if isinstance(caught.value, ServerError):
        assert caught.value.status["code"] == code


def test_an_object_is_returned_as_it_is() -> None:
    body = b'{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": {}}'
    assert decode_response(200, "application/json", body)["response"] == {}
    assert decode_response(200, "application/json", b"null") == {}
