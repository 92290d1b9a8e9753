"""gRPC errors worded as grpc-go words them (status.Error's Error()): what Kubernetes' components
print when they pass a gRPC error on as it is (the kubelet's image pulls, its gRPC probes)."""

from __future__ import annotations

import grpc


def go_code(code: grpc.StatusCode) -> str:
    """grpc-go's name of a status code: NotFound, Unavailable, DeadlineExceeded, ..."""
    if code == grpc.StatusCode.OK:
        return "OK"
    return "".join(part.capitalize() for part in code.name.split("_"))


def go_error(code: grpc.StatusCode, details: str) -> str:
    """`rpc error: code = NotFound desc = ...`, as an error from a grpc-go client prints."""
    return f"rpc error: code = {go_code(code)} desc = {details}"
