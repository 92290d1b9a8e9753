"""The REST door's filters (k8s.io/apiserver/pkg/endpoints/filters and server/filters), as aiohttp
middlewares, outermost first: errors as metav1.Status, authentication, impersonation, the
request's info, metrics, the overload guard, authorization. Each adapts a door-neutral decision
(apiserver.auth, apiserver.flowcontrol) the gRPC door's interceptors adapt too, so a request is
judged the same whichever door it comes through."""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import Awaitable, Callable

import grpc
from aiohttp import web
from aiohttp.typedefs import Middleware

from apiserver import errors
from apiserver.admission import warnings as admission_warnings
from apiserver.auth.authenticator import Authenticator, bearer_from_header
from apiserver.auth.authorizer import Authorizer
from apiserver.auth.impersonation import impersonate, requested
from apiserver.auth.user import UserInfo, current_user, reset_current_user, set_current_user
from apiserver.endpoints.metrics import (
    duration_series,
    inflight_series,
    longrunning_series,
    request_series,
)
from apiserver.endpoints.request import MAX_REQUEST_BYTES, Resolver
from apiserver.endpoints.rest import request as rest_request
from apiserver.endpoints.rest.negotiation import accepted
from apiserver.endpoints.rest.request import NonResourceRequest, ResourceRequest
from apiserver.endpoints.rest.responses import (
    ADMISSION_RECORDER,
    FLOW_CONTROL_UIDS,
    STREAMED_STATUS,
    status_response,
)
from apiserver.endpoints.rest.status import http_code, not_found_path, unauthorized
from apiserver.flowcontrol.max_inflight import (
    RETRY_AFTER_SECONDS,
    TOO_MANY_REQUESTS,
    MaxInflight,
    count_rejection,
    exempt,
)
from apiserver.flowcontrol.priority_and_fairness import PriorityAndFairness, Rejection
from apiserver.flowcontrol.request import RequestDigest, user_or_anonymous
from podplane.componentbase.x509_subject import subject_from_peercert

log = logging.getLogger(__name__)
audit_log = logging.getLogger("apiserver.audit")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Where each filter leaves what it found, for the ones after it and the handlers.
PARSED: web.RequestKey[ResourceRequest | NonResourceRequest] = web.RequestKey("podplane.request")
USER: web.RequestKey[UserInfo | None] = web.RequestKey("podplane.user")


def parsed(request: web.Request) -> ResourceRequest | NonResourceRequest:
    return request[PARSED]


def _error_form(request: web.Request) -> tuple[bool, bool]:
    """Whether the client asked for YAML, or for protobuf (of a kind written in it), before
    JSON: its errors are written so too."""
    req = request.get(PARSED)
    kind = None
    if isinstance(req, ResourceRequest):
        kind = req.resource or req.create_only or req.computed
    try:
        form = accepted(request.headers.get("Accept", ""), kind)
    except errors.APIError:
        return False, False
    return form.yaml, form.protobuf


# What aiohttp's own refusals are in Kubernetes' terms (a body over the limit is 413).
_HTTP_REASONS = {
    400: ("BadRequest", grpc.StatusCode.INVALID_ARGUMENT),
    404: ("NotFound", grpc.StatusCode.NOT_FOUND),
    405: ("MethodNotAllowed", grpc.StatusCode.UNIMPLEMENTED),
    413: ("RequestEntityTooLarge", grpc.StatusCode.INVALID_ARGUMENT),
    415: ("UnsupportedMediaType", grpc.StatusCode.INVALID_ARGUMENT),
}


def _http_error(e: web.HTTPException) -> errors.APIError:
    if isinstance(e, web.HTTPRequestEntityTooLarge):
        message = "Request entity too large: limit is " + str(MAX_REQUEST_BYTES)
        return errors.APIError(grpc.StatusCode.INVALID_ARGUMENT, "RequestEntityTooLarge", message)
    reason, code = _HTTP_REASONS.get(e.status, ("BadRequest", grpc.StatusCode.INVALID_ARGUMENT))
    return errors.APIError(code, reason, e.reason or reason)


def _internal_error(request: web.Request, e: BaseException) -> errors.APIError:
    log.error("%s %s failed", request.method, request.path, exc_info=e)
    return errors.APIError(
        grpc.StatusCode.INTERNAL, "InternalError", f"Internal error occurred: {type(e).__name__}"
    )


@web.middleware
async def admission_recording(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The request's admission warnings and audit annotations (apiserver/admission/warnings.py):
    the warnings are written as the answer's Warning headers (add_request_warnings), the
    annotations logged, podplane having no audit log."""
    with admission_warnings.recording() as recorder:
        request[ADMISSION_RECORDER] = recorder
        try:
            return await handler(request)
        finally:
            if recorder.annotations:
                audit_log.info(
                    "%s %s annotations %s", request.method, request.path, recorder.annotations
                )


@web.middleware
async def errors_as_status(request: web.Request, handler: Handler) -> web.StreamResponse:
    """An APIError from anywhere below is answered as its Status, in the form the client asked
    for (JSON, YAML or protobuf); an aiohttp refusal (a body over the limit) as the Status
    Kubernetes gives it; anything else as a 500 Status that says it is the server's fault (its
    traceback logged, not sent), never aiohttp's own error page or a dropped connection."""
    try:
        return await handler(request)
    except errors.APIError as e:
        err = e
    except web.HTTPException as e:
        if e.status < 400:
            raise  # a redirect
        err = _http_error(e)
    except Exception as e:  # noqa: BLE001 (a bug: say so, keep serving)
        err = _internal_error(request, e)
    try:
        as_yaml, as_protobuf = _error_form(request)
        return status_response(err, as_yaml=as_yaml, as_protobuf=as_protobuf)
    except Exception as e:  # noqa: BLE001 (the error's own Status would not encode)
        return status_response(_internal_error(request, e))


# The verified client certificate's subject of each TLS connection, read at its first request:
# the same for all the requests a keep-alive connection carries.
_SUBJECTS: weakref.WeakKeyDictionary[object, str | None] = weakref.WeakKeyDictionary()


def _client_subject(request: web.Request) -> str | None:
    ssl_object = request.transport.get_extra_info("ssl_object") if request.transport else None
    if ssl_object is None:
        return None
    try:
        return _SUBJECTS[ssl_object]
    except KeyError:
        cert = ssl_object.getpeercert()
        subject = _SUBJECTS[ssl_object] = subject_from_peercert(cert) if cert else None
        return subject


def authentication(authenticator: Authenticator | None) -> Middleware:
    """The caller, from its verified client certificate or its bearer token, else
    system:anonymous (apiserver.auth.authenticator decides); a token no one issued, or no
    credentials with --anonymous-auth=false, is answered 401 Unauthorized. Without
    authentication configured (in-process tests) there is no user and every request is
    allowed."""

    @web.middleware
    async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
        user: UserInfo | None = None
        if authenticator is not None:
            header = request.headers.get("Authorization", "")
            token = bearer_from_header(header) if header else None
            user = await authenticator.authenticate_request(_client_subject(request), token)
            if user is None:
                raise unauthorized()
        request[USER] = user
        context = set_current_user(user)
        try:
            return await handler(request)
        finally:
            reset_current_user(context)

    return authenticate


def impersonation(authorizer: Authorizer) -> Middleware:
    """The Impersonate-* headers (apiserver.auth.impersonation): once the caller is allowed to
    act as the user they name, the request is that user's for every filter and handler after
    this one."""

    @web.middleware
    async def act_as(request: web.Request, handler: Handler) -> web.StreamResponse:
        requester = request[USER]
        if requester is None:  # no authentication configured: no one to act as
            return await handler(request)
        wanted = requested(request.headers.items())
        if not wanted:
            return await handler(request)
        user = impersonate(requester, wanted, authorizer.authorize)
        request[USER] = user
        context = set_current_user(user)
        try:
            return await handler(request)
        finally:
            reset_current_user(context)

    return act_as


def request_info(resolve: Resolver) -> Middleware:
    """What the request asks for, its resource resolved by `resolve` (every served resource,
    the custom ones included)."""

    @web.middleware
    async def parse(request: web.Request, handler: Handler) -> web.StreamResponse:
        request[PARSED] = rest_request.parse(request.method, request.path, request.query, resolve)
        return await handler(request)

    return parse


@web.middleware
async def metrics(request: web.Request, handler: Handler) -> web.StreamResponse:
    """apiserver_request_total by HTTP code, the latency of short requests, and the requests in
    flight or long-running, as the gRPC door counts its calls (by gRPC code)."""
    req = parsed(request)
    if not isinstance(req, ResourceRequest):
        return await handler(request)
    info = req.info
    gauge = (
        longrunning_series(info.verb, info.resource, info.subresource)
        if info.long_running
        else inflight_series(info.request_kind)
    )
    gauge.inc()
    start = time.monotonic()
    code = 500  # an exception that is no APIError: errors_as_status answers 500
    try:
        response = await handler(request)
        code = response.status
        return response
    except errors.APIError as e:  # answered by errors_as_status, outside this filter
        code = http_code(e)
        raise
    except web.HTTPException as e:
        code = e.status
        raise
    except asyncio.CancelledError:  # the client went: a stream it had (a watch) ends so
        code = request.get(STREAMED_STATUS, code)
        raise
    finally:
        gauge.dec()
        if not info.long_running:
            duration_series(info.verb, info.resource, info.subresource).observe(
                time.monotonic() - start
            )
        request_series(info.verb, info.resource, info.subresource, str(code)).inc()


def flow_control(guard: PriorityAndFairness | MaxInflight) -> Middleware:
    """The overload guard (apiserver.flowcontrol). With API Priority and Fairness, each request
    (non-resource ones too: health probes are exempt) is classified by its user and attributes,
    executed at once or queued until it has a seat, or answered 429 TooManyRequests with its
    priority level's Retry-After when its queue is full or it waited too long; a watch gives its
    seat back as it starts; log, exec, attach and port-forward are not flow-controlled. With the
    max-in-flight guard, a short request over its kind's limit is answered 429 at once;
    long-running ones and system:masters pass."""

    def too_many_requests(retry_after: int) -> web.StreamResponse:
        response = status_response(
            errors.APIError(
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                "TooManyRequests",
                TOO_MANY_REQUESTS,
                errors.Details(retry_after_seconds=retry_after),
            )
        )
        response.headers["Retry-After"] = str(retry_after)
        return response

    if isinstance(guard, PriorityAndFairness):
        apf = guard

        @web.middleware
        async def priority_and_fairness(
            request: web.Request, handler: Handler
        ) -> web.StreamResponse:
            req = parsed(request)
            user = user_or_anonymous(request[USER])
            if isinstance(req, NonResourceRequest):
                digest = RequestDigest(user, req.verb, is_resource_request=False, path=req.path)
            elif req.long_running and req.verb != "watch":
                return await handler(request)
            else:
                digest = RequestDigest(
                    user, req.verb, req.plural, req.group, req.subresource, req.namespace, req.name
                )
            seat = await apf.admit(digest)
            request[FLOW_CONTROL_UIDS] = (seat.flow_schema_uid, seat.priority_level_uid)
            if isinstance(seat, Rejection):
                if isinstance(req, ResourceRequest):
                    info = req.info
                    count_rejection(
                        info.request_kind, info.verb, info.resource, info.subresource, "429"
                    )
                return too_many_requests(seat.retry_after)
            if digest.watch:
                seat.release()  # a watch holds no seat once started
            try:
                return await handler(request)
            finally:
                seat.release()

        return priority_and_fairness

    limits = guard

    @web.middleware
    async def guard_inflight(request: web.Request, handler: Handler) -> web.StreamResponse:
        req = parsed(request)
        info = req.info if isinstance(req, ResourceRequest) else None
        slots = limits.slots.get(info.request_kind) if info and not info.long_running else None
        if slots is None or info is None or exempt(current_user()):
            return await handler(request)
        if not slots.try_acquire():
            count_rejection(info.request_kind, info.verb, info.resource, info.subresource, "429")
            return too_many_requests(int(RETRY_AFTER_SECONDS))
        try:
            return await handler(request)
        finally:
            slots.release()

    return guard_inflight


def authorization(
    authorizer: Authorizer, aggregated: Callable[[str, str], bool] = lambda g, v: False
) -> Middleware:
    """Asks apiserver.auth's authorizer whether the user may make the request; a refusal is
    403 Forbidden in Kubernetes' words. Non-resource paths are authorized by path; a resource of
    an aggregated group/version (`aggregated(group, version)`) by its attributes as parsed, as
    Kubernetes authorizes before its proxy."""

    @web.middleware
    async def authorize(request: web.Request, handler: Handler) -> web.StreamResponse:
        req = parsed(request)
        user: UserInfo | None = request[USER]
        if isinstance(req, NonResourceRequest):
            refused = authorizer.non_resource_refusal(user, req.verb, req.path)
            if refused is not None:
                raise refused
            return await handler(request)
        proxied = req.resource is None and bool(req.group) and aggregated(req.group, req.version)
        known = req.resource or req.create_only or req.computed
        if known is None and req.plural != "bindings":
            if not proxied:
                raise not_found_path()
        resource = req.plural
        verb = req.verb
        if req.subresource in ("exec", "attach", "portforward") and verb == "get":
            verb = "create"  # a websocket upgrade is a GET, authorized as the POST it replaces
        authorizer.check(
            user,
            verb,
            resource,
            req.subresource,
            req.namespace,
            req.name,
            group=req.group,
            # An aggregated resource's scope is the path's, as Kubernetes' RequestInfo has it.
            namespaced=(
                req.resource.namespaced
                if req.resource is not None
                else (bool(req.namespace) if proxied else None)
            ),
            field_selector=request.query.get("fieldSelector", ""),
        )
        return await handler(request)

    return authorize
