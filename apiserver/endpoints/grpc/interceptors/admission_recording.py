"""The admission recording interceptor: each resource request of the gRPC door runs with its own
admission recorder (apiserver/admission/warnings.py), as the REST door's admission_recording
filter does, and its audit annotations are logged when it ends (logger apiserver.audit, podplane
having no audit log). A unary call's warnings are sent as `warning` trailing metadata
(apiserver/endpoints/grpc/status.py), gRPC's stand-in for the REST door's Warning header."""

from __future__ import annotations

import logging

import grpc
from google.protobuf.message import Message

from apiserver.admission import warnings as admission_warnings
from apiserver.endpoints.grpc.interceptors.handler_wrapping import (
    Stream,
    Unary,
    WrappingInterceptor,
    wrap_behaviors,
)
from apiserver.endpoints.grpc.interceptors.request_info import request_info

audit_log = logging.getLogger("apiserver.audit")


def _unary(method: str, behavior: Unary) -> Unary:
    async def handle(request: Message, context: grpc.aio.ServicerContext) -> Message:
        with admission_warnings.recording() as recorder:
            try:
                return await behavior(request, context)
            finally:
                if recorder.annotations:
                    audit_log.info("%s annotations %s", method, recorder.annotations)

    return handle


def _stream(behavior: Stream) -> Stream:
    return behavior  # watches and logs write nothing


class AdmissionRecordingInterceptor(WrappingInterceptor):
    def wrap_handler(self, method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        if request_info(method) is None:
            return handler
        return wrap_behaviors(handler, lambda b: _unary(method, b), _stream)
