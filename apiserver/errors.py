"""API errors with Kubernetes' wording, so a person knows what to do: each is a gRPC status code
for the gRPC door and a metav1.Status (reason, message, details) for the REST door, which maps
the reason to Kubernetes' HTTP code (apiserver/endpoints/rest/status.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

import grpc

from podplane.apimachinery.resources import Resource


@dataclass(frozen=True)
class Cause:
    """metav1.StatusCause: one field's problem (reason FieldValueRequired, FieldValueInvalid, ...),
    its message and the field's path."""

    reason: str
    message: str
    field: str = ""


@dataclass(frozen=True)
class Details:
    """metav1.StatusDetails: the object the error is about (kind is the resource's plural for
    most errors, its kind for Invalid, as Kubernetes does) and the causes."""

    name: str = ""
    group: str = ""
    kind: str = ""
    uid: str = ""
    causes: tuple[Cause, ...] = ()
    retry_after_seconds: int = 0


@dataclass
class APIError(Exception):
    code: grpc.StatusCode
    reason: str
    message: str
    details: Details | None = field(default=None, compare=False)
    # The HTTP code when it is not the reason's (a webhook's denial with a code of its own); 0:
    # the reason's, as apiserver/endpoints/rest/status.py maps it.
    http_status: int = field(default=0, compare=False)

    def __str__(self) -> str:
        return self.message


def group_of(resource: Resource) -> str:
    return resource.api_version.rpartition("/")[0]


def qualified(resource: Resource) -> str:
    """The resource as Kubernetes names it in messages (schema.GroupResource's String()): pods,
    deployments.apps, leases.coordination.k8s.io."""
    group = group_of(resource)
    return f"{resource.plural}.{group}" if group else resource.plural


def _about(resource: Resource, name: str) -> Details:
    return Details(name=name, group=group_of(resource), kind=resource.plural)


# gRPC carries the message in a trailer, percent-encoding bytes outside printable ASCII (up to
# three bytes each), and clients refuse trailers past 16 KiB: the call would end RESOURCE_EXHAUSTED
# "received metadata size exceeds hard limit" instead of with the error.
MAX_MESSAGE_BYTES = 4096


def status_message(message: str) -> str:
    """The message as sent: a very long one (thousands of field errors) cut short, saying so."""
    encoded = message.encode()
    if len(encoded) <= MAX_MESSAGE_BYTES:
        return message
    return encoded[:MAX_MESSAGE_BYTES].decode(errors="ignore") + "...(truncated)"


def not_found(resource: Resource, name: str) -> APIError:
    return APIError(
        grpc.StatusCode.NOT_FOUND,
        "NotFound",
        f'{qualified(resource)} "{name}" not found',
        _about(resource, name),
    )


def already_exists(resource: Resource, name: str) -> APIError:
    return APIError(
        grpc.StatusCode.ALREADY_EXISTS,
        "AlreadyExists",
        f'{qualified(resource)} "{name}" already exists',
        _about(resource, name),
    )


def conflict(
    resource: Resource,
    name: str,
    detail: str = "the object has been modified; please apply your changes to the "
    "latest version and try again",
) -> APIError:
    return APIError(
        grpc.StatusCode.ABORTED,
        "Conflict",
        f'Operation cannot be fulfilled on {qualified(resource)} "{name}": {detail}',
        _about(resource, name),
    )


def internal(message: str) -> APIError:
    """errors.NewInternalError: the server could not do what a valid request asks (a full
    range of cluster IPs or node ports), a 500."""
    return APIError(
        grpc.StatusCode.INTERNAL, "InternalError", f"Internal error occurred: {message}"
    )


def bad_request(message: str) -> APIError:
    return APIError(grpc.StatusCode.INVALID_ARGUMENT, "BadRequest", message)


def too_old(requested: int, oldest: int) -> APIError:
    return APIError(
        grpc.StatusCode.OUT_OF_RANGE, "Expired", f"too old resource version: {requested} ({oldest})"
    )


def timeout(message: str) -> APIError:
    """The server could not answer in time (Kubernetes' 504 Timeout)."""
    return APIError(grpc.StatusCode.DEADLINE_EXCEEDED, "Timeout", message)


def unavailable(message: str) -> APIError:
    return APIError(grpc.StatusCode.UNAVAILABLE, "ServiceUnavailable", message)


def request_entity_too_large(limit: int) -> APIError:
    return APIError(
        grpc.StatusCode.INVALID_ARGUMENT,
        "RequestEntityTooLarge",
        f"Request entity too large: limit is {limit}",
    )


def too_large_for_etcd() -> APIError:
    """An object past etcd's request limit: etcd's own words, which Kubernetes passes on (as a
    500 there; a 413 here, since retrying cannot help)."""
    return APIError(
        grpc.StatusCode.INVALID_ARGUMENT,
        "RequestEntityTooLarge",
        "etcdserver: request is too large",
    )


def forbidden(resource: Resource, name: str, reason: str) -> APIError:
    return APIError(
        grpc.StatusCode.PERMISSION_DENIED,
        "Forbidden",
        f'{qualified(resource)} "{name}" is forbidden: {reason}',
        _about(resource, name),
    )
