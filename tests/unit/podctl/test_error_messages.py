"""Server errors read as kubectl's: one line, the Kubernetes reason, the server's message."""

from __future__ import annotations

import grpc
import pytest

from podctl.errors import server_error_message
from tests.unit.podctl.fakes import rpc_error

SERVER = "localhost:6443"


@pytest.mark.parametrize(
    ("code", "details", "expected"),
    [
        (
            grpc.StatusCode.NOT_FOUND,
            'pods "x" not found',
            'Error from server (NotFound): pods "x" not found',
        ),
        (
            grpc.StatusCode.ALREADY_EXISTS,
            'pods "x" already exists',
            'Error from server (AlreadyExists): pods "x" already exists',
        ),
        (
            grpc.StatusCode.INVALID_ARGUMENT,
            'Pod "x" is invalid: spec.containers[0].image: Required value',
            'The Pod "x" is invalid: spec.containers[0].image: Required value',
        ),
        (
            grpc.StatusCode.INVALID_ARGUMENT,
            'unable to parse requirement: "app=="',
            'Error from server (BadRequest): unable to parse requirement: "app=="',
        ),
        (
            grpc.StatusCode.ABORTED,
            'Operation cannot be fulfilled on pods "x": the object has been modified',
            'Error from server (Conflict): Operation cannot be fulfilled on pods "x": '
            "the object has been modified",
        ),
        (
            grpc.StatusCode.PERMISSION_DENIED,
            "pods is forbidden",
            "Error from server (Forbidden): pods is forbidden",
        ),
        (
            grpc.StatusCode.OUT_OF_RANGE,
            "too old resource version: 5 (9)",
            "Error from server (Expired): too old resource version: 5 (9)",
        ),
        (grpc.StatusCode.INTERNAL, "boom", "Error from server (InternalError): boom"),
        (
            grpc.StatusCode.UNAVAILABLE,
            "etcd is unavailable",
            "Error from server (ServiceUnavailable): etcd is unavailable",
        ),
        (
            grpc.StatusCode.UNAVAILABLE,
            "failed to connect to all addresses; last error: "
            "UNKNOWN: ipv4:127.0.0.1:6443: Connection refused",
            "The connection to the server localhost:6443 was refused - "
            "did you specify the right host or port?",
        ),
    ],
    ids=lambda v: v.name if isinstance(v, grpc.StatusCode) else None,
)
def test_message_per_status_code(code: grpc.StatusCode, details: str, expected: str) -> None:
    assert server_error_message(rpc_error(code, details), SERVER) == expected


def test_manifest_errors_name_their_source() -> None:
    err = rpc_error(grpc.StatusCode.ALREADY_EXISTS, 'pods "jumpod" already exists')
    assert server_error_message(err, SERVER, source_note='error when creating "jumpod.yaml": ') == (
        'Error from server (AlreadyExists): error when creating "jumpod.yaml": '
        'pods "jumpod" already exists'
    )
