"""Errors as kubectl reports them: one line on stderr, a non-zero exit, never a traceback."""

from __future__ import annotations

import re

import grpc

from podplane.client.clientset import status_code

# gRPC status codes for the HTTP statuses Kubernetes answers with, named by their StatusReason.
_REASONS: dict[grpc.StatusCode, str] = {
    grpc.StatusCode.NOT_FOUND: "NotFound",
    grpc.StatusCode.ALREADY_EXISTS: "AlreadyExists",
    grpc.StatusCode.INVALID_ARGUMENT: "BadRequest",
    grpc.StatusCode.ABORTED: "Conflict",
    grpc.StatusCode.FAILED_PRECONDITION: "Conflict",
    grpc.StatusCode.PERMISSION_DENIED: "Forbidden",
    grpc.StatusCode.UNAUTHENTICATED: "Unauthorized",
    grpc.StatusCode.OUT_OF_RANGE: "Expired",
    grpc.StatusCode.RESOURCE_EXHAUSTED: "TooManyRequests",
    grpc.StatusCode.DEADLINE_EXCEEDED: "Timeout",
    grpc.StatusCode.UNIMPLEMENTED: "MethodNotAllowed",
    grpc.StatusCode.UNAVAILABLE: "ServiceUnavailable",
}
# `Pod "jumpod" is invalid: spec.containers[0].image: Required value`
_INVALID = re.compile(r'^\S+ ".*" is invalid\b')
_CONNECT_FAILURES = ("failed to connect", "connection refused", "connect failed", "dns resolution")


class CommandError(Exception):
    """A failure whose message is ready to print as is."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


def usage_error(message: str) -> CommandError:
    return CommandError(f"error: {message}")


def connection_refused(server: str) -> CommandError:
    return CommandError(
        f"The connection to the server {server} was refused - "
        "did you specify the right host or port?"
    )


def is_connection_failure(err: grpc.aio.AioRpcError) -> bool:
    details = (err.details() or "").lower()
    return err.code() == grpc.StatusCode.UNAVAILABLE and any(
        s in details for s in _CONNECT_FAILURES
    )


def server_error_message(err: BaseException, server: str, *, source_note: str = "") -> str:
    """kubectl's line for an API error: `Error from server (NotFound): pods "x" not found`.

    `source_note` is kubectl's `error when creating "pod.yaml": ` prefix for errors about a
    manifest.
    """
    if not isinstance(err, grpc.aio.AioRpcError):
        return f"error: {err}"
    if is_connection_failure(err):
        return connection_refused(server).message
    code = status_code(err)
    message = err.details() or ""
    if code == grpc.StatusCode.INVALID_ARGUMENT and _INVALID.match(message):
        # kubectl names the object and lists the causes, without the manifest prefix.
        return f"The {message}"
    reason = _REASONS.get(code, "InternalError") if code is not None else "InternalError"
    return f"Error from server ({reason}): {source_note}{message}"


def from_rpc_error(err: BaseException, server: str, *, source_note: str = "") -> CommandError:
    return CommandError(server_error_message(err, server, source_note=source_note))
