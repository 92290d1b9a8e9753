"""The probes behind ComponentStatus (kubernetes pkg/registry/core/componentstatus/validator.go):
an HTTP GET of a component's health endpoint, worded as Kubernetes' HTTP prober words its
outcome (pkg/probe/http), and etcd's health through an etcd client."""

from __future__ import annotations

import asyncio
import enum
import errno
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

import aiohttp
import grpc

from apiserver.storage.etcd import EtcdUnavailable

PROBE_TIMEOUT = 20.0  # probeTimeOut
# pkg/probe/http's maxRespBodyLength: the body read, at most.
MAX_BODY = 10 * 1024
USER_AGENT = "kube-probe/1.31"


class Result(enum.Enum):
    """probe.Result."""

    SUCCESS = "success"
    WARNING = "warning"
    FAILURE = "failure"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Check:
    """What DoServerCheck returns: the result, the message (the body), the error if any."""

    result: Result
    message: str = ""
    error: str = ""


class Server(Protocol):
    async def check(self) -> Check: ...


def _request_error(url: str, e: BaseException) -> str:
    """Go's *url.Error text of a failed GET: Get "<url>": <cause>."""
    if isinstance(e, TimeoutError):
        cause = "context deadline exceeded (Client.Timeout exceeded while awaiting headers)"
    elif isinstance(e, aiohttp.ClientConnectorError):
        parts = urlsplit(url)
        reason = os.strerror(e.os_error.errno).lower() if e.os_error.errno else str(e.os_error)
        if e.os_error.errno == errno.ECONNREFUSED:
            reason = "connection refused"
        cause = f"dial tcp {parts.hostname}:{parts.port or 80}: connect: {reason}"
    else:
        cause = str(e) or type(e).__name__
    return f'Get "{url}": {cause}'


@dataclass
class HTTPServer:
    """A component's health endpoint (HttpServer): 2xx is Success with the body as the message,
    3xx a Warning, anything else a Failure; a GET that is not answered is a Failure whose
    message says why (the prober reports it so, with no error)."""

    url: str
    timeout: float = PROBE_TIMEOUT

    async def check(self) -> Check:
        headers = {"User-Agent": USER_AGENT, "Accept": "*/*"}
        try:
            async with (
                asyncio.timeout(self.timeout),
                aiohttp.ClientSession(trust_env=False) as session,
                session.get(self.url, headers=headers, ssl=False) as response,
            ):
                body = (await response.content.read(MAX_BODY)).decode(errors="replace")
                status = response.status
        except (OSError, TimeoutError, aiohttp.ClientError) as e:
            return Check(Result.FAILURE, _request_error(self.url, e))
        if 200 <= status < 300:
            return Check(Result.SUCCESS, body)
        if 300 <= status < 400:
            return Check(Result.WARNING, f"Probe terminated redirects, Response body: {body}")
        return Check(Result.FAILURE, f"HTTP probe failed with statuscode: {status}")


@dataclass
class EtcdServer:
    """One etcd server (EtcdServer): healthy, "ok", when it answers a status request; else a
    Failure whose error says why."""

    probe: Callable[[], Awaitable[object]]
    timeout: float = PROBE_TIMEOUT

    async def check(self) -> Check:
        try:
            async with asyncio.timeout(self.timeout):
                await self.probe()
        except TimeoutError:
            return Check(Result.FAILURE, error="context deadline exceeded")
        except (OSError, EtcdUnavailable, grpc.aio.AioRpcError) as e:
            return Check(Result.FAILURE, error=str(e) or type(e).__name__)
        return Check(Result.SUCCESS, "ok")
