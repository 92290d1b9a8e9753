"""A minimal HTTP/1.1 GET over asyncio streams, for httpGet probes and lifecycle hooks: the status
code is all that matters (the body is read and dropped, up to a limit)."""

from __future__ import annotations

import asyncio
import functools
import os
import ssl
from collections.abc import Sequence

USER_AGENT = "kube-probe/1.31"
MAX_BODY = 10 * 1024


class HTTPGetError(Exception):
    """The request could not be made or answered (refused, reset, timed out, not HTTP)."""


def dial_error(host: str, port: int, e: OSError) -> str:
    """As Go's net package words it: "dial tcp 10.244.1.5:8080: connect: connection refused"."""
    reason = os.strerror(e.errno).lower() if e.errno else str(e)
    return f"dial tcp {host}:{port}: connect: {reason}"


def url(scheme: str, host: str, port: int, path: str) -> str:
    if not path.startswith("/"):
        path = "/" + path
    return f"{scheme.lower()}://{host}:{port}{path}"


async def http_get(
    scheme: str, host: str, port: int, path: str, headers: Sequence[tuple[str, str]], timeout: float
) -> int:
    """The response's status code. HTTPS certificates are not verified, as the kubelet's
    prober does not verify them."""
    context = _unverified_context() if scheme.upper() == "HTTPS" else None
    target = url(scheme or "HTTP", host, port, path)
    try:
        async with asyncio.timeout(timeout):
            return await _get(host, port, path or "/", headers, context)
    except TimeoutError:
        raise HTTPGetError(
            f'Get "{target}": context deadline exceeded (Client.Timeout '
            f"exceeded while awaiting headers)"
        ) from None
    except ConnectionRefusedError as e:
        raise HTTPGetError(f'Get "{target}": {dial_error(host, port, e)}') from e
    except (OSError, ValueError, asyncio.IncompleteReadError) as e:
        raise HTTPGetError(f'Get "{target}": {e}') from e


@functools.cache
def _unverified_context() -> ssl.SSLContext:
    """One client context for every HTTPS probe and hook: it verifies nothing, so it loads no CA
    bundle (reading the system's on each probe was most of a probing kubelet's CPU)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


async def _get(
    host: str,
    port: int,
    path: str,
    headers: Sequence[tuple[str, str]],
    context: ssl.SSLContext | None,
) -> int:
    if not path.startswith("/"):
        path = "/" + path
    reader, writer = await asyncio.open_connection(host, port, ssl=context)
    try:
        given = {name.lower() for name, _ in headers}
        lines = [f"GET {path} HTTP/1.1"]
        if "host" not in given:
            lines.append(f"Host: {host}:{port}")
        if "user-agent" not in given:
            lines.append(f"User-Agent: {USER_AGENT}")
        if "accept" not in given:
            lines.append("Accept: */*")
        lines += [f"{name}: {value}" for name, value in headers]
        lines.append("Connection: close")
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        await writer.drain()
        status_line = (await reader.readline()).decode("latin-1")
        parts = status_line.split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
            raise ValueError(f"malformed HTTP response {status_line.strip()!r}")
        await reader.read(MAX_BODY)  # let the server finish writing before we close
        return int(parts[1])
    finally:
        writer.close()
        try:
            await writer.wait_closed()
        except (OSError, ssl.SSLError):
            pass
