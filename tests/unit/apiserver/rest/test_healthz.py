"""/healthz, /livez and /readyz as kube-apiserver's healthz package answers them, over checks
that pass or fail on demand: `ok`, the verbose list, exclusions, the 500 that names the failed
check but withholds its reason, a per-check path's own reason."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from apiserver.endpoints.health import HealthCheck, HealthChecks, PostStartHooks
from apiserver.endpoints.rest import healthz


def check(name: str, reason: str | None = None) -> HealthCheck:
    async def probe() -> str | None:
        return reason

    return HealthCheck(name, probe)


HEALTHY = {"readyz": [check("ping"), check("etcd"), check("shutdown")]}
FAILING = {"readyz": [check("ping"), check("etcd", "etcd did not answer within 2s")]}


async def answer(checks: HealthChecks, path: str, *query: tuple[str, str]) -> tuple[int, str, str]:
    reply = await healthz.serve(checks, path, urlencode(query))
    assert reply is not None and reply.text is not None
    return reply.status, reply.headers["Content-Type"], reply.text


@pytest.mark.parametrize(
    ("checks", "path", "query", "expected"),
    [
        (HEALTHY, "/readyz", (), (200, "ok")),
        (
            HEALTHY,
            "/readyz",
            (("verbose", ""),),
            (200, "[+]ping ok\n[+]etcd ok\n[+]shutdown ok\nreadyz check passed\n"),
        ),
        (
            HEALTHY,
            "/readyz",
            (("verbose", ""), ("exclude", "etcd"), ("exclude", "b"), ("exclude", "a")),
            (
                200,
                "[+]ping ok\n[+]etcd excluded: ok\n[+]shutdown ok\n"
                'warn: some health checks cannot be excluded: no matches for "a","b"\n'
                "readyz check passed\n",
            ),
        ),
        (
            FAILING,
            "/readyz",
            (),
            (500, "[+]ping ok\n[-]etcd failed: reason withheld\nreadyz check failed\n"),
        ),
        (FAILING, "/readyz", (("exclude", "etcd"),), (200, "ok")),
        (HEALTHY, "/readyz/etcd", (), (200, "ok")),
        (
            FAILING,
            "/readyz/etcd",
            (),
            (500, "internal server error: etcd did not answer within 2s\n"),
        ),
    ],
)
async def test_answers(
    checks: HealthChecks,
    path: str,
    query: tuple[tuple[str, str], ...],
    expected: tuple[int, str],
) -> None:
    code, content_type, body = await answer(checks, path, *query)
    assert (code, body) == expected
    assert content_type == "text/plain; charset=utf-8"


async def test_paths_that_name_no_check_are_not_answered() -> None:
    assert await healthz.serve(HEALTHY, "/readyz/nosuch", "") is None
    assert await healthz.serve(HEALTHY, "/livez", "") is None


async def test_a_post_start_hook_passes_once_it_has_run() -> None:
    hooks = PostStartHooks(("rbac/bootstrap-roles", "bootstrap-controller"))
    checks = {"livez": hooks.checks()}

    async def bootstrap() -> None:
        pass

    assert await answer(checks, "/livez") == (
        500,
        "text/plain; charset=utf-8",
        "[-]poststarthook/rbac/bootstrap-roles failed: reason withheld\n"
        "[-]poststarthook/bootstrap-controller failed: reason withheld\nlivez check failed\n",
    )
    await hooks.run("rbac/bootstrap-roles", bootstrap())
    hooks.done("bootstrap-controller")
    assert (await answer(checks, "/livez", ("verbose", "")))[2] == (
        "[+]poststarthook/rbac/bootstrap-roles ok\n[+]poststarthook/bootstrap-controller ok\n"
        "livez check passed\n"
    )
