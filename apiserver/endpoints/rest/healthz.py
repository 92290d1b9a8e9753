"""/healthz, /livez and /readyz as k8s.io/apiserver/pkg/server/healthz answers them: each a list
of named checks. The root path runs them all (`?exclude=NAME` skips one, `?verbose` lists each),
answering `ok`, or 500 with every check's line and `<name> check failed`; the reason a check
failed is logged, never answered (the root paths are public). `/<endpoint>/<check>` runs one
check: `ok`, or 500 `internal server error: <reason>`."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from urllib.parse import parse_qs

from aiohttp import web

from apiserver.endpoints.health import HealthCheck, HealthChecks

log = logging.getLogger(__name__)


def _text(body: str, status: int = 200) -> web.Response:
    response = web.Response(status=status, text=body, content_type="text/plain", charset="utf-8")
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _quoted(names: Sequence[str]) -> str:
    return ",".join(f'"{n}"' for n in names)


async def serve(checks: HealthChecks, path: str, query_string: str) -> web.Response | None:
    """The answer to `path` (/healthz, /livez/etcd, ...) with its query, or None when it names
    no check."""
    endpoint, _, check_name = path.strip("/").partition("/")
    listed = checks.get(endpoint)
    if listed is None:
        return None
    if check_name:
        found = next((c for c in listed if c.name == check_name), None)
        if found is None:
            return None
        reason = await found.probe()
        if reason is not None:
            return _text(f"internal server error: {reason}\n", 500)
        return _text("ok")
    return await _root(endpoint, listed, parse_qs(query_string, keep_blank_values=True))


async def _root(
    name: str, checks: Sequence[HealthCheck], query: dict[str, list[str]]
) -> web.Response:
    excluded = set(query.get("exclude", []))
    lines: list[str] = []
    failed: list[str] = []
    for check in checks:
        if check.name in excluded:
            excluded.discard(check.name)
            lines.append(f"[+]{check.name} excluded: ok\n")
            continue
        reason = await check.probe()
        if reason is None:
            lines.append(f"[+]{check.name} ok\n")
        else:
            # The reason is withheld: the endpoint is public.
            lines.append(f"[-]{check.name} failed: reason withheld\n")
            log.info("%s check failed: %s: %s", name, check.name, reason)
            failed.append(check.name)
    if excluded:
        missing = _quoted(sorted(excluded))
        lines.append(f"warn: some health checks cannot be excluded: no matches for {missing}\n")
        log.warning("cannot exclude some health checks, no health checks match %s", missing)
    if failed:
        return _text(f"{''.join(lines)}{name} check failed\n", 500)
    if "verbose" not in query:
        return _text("ok")
    return _text(f"{''.join(lines)}{name} check passed\n")
