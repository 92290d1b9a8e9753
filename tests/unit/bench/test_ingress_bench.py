"""`podplane-bench ingress` reads wrk's --latency report: requests/s, the percentiles in seconds
whatever wrk's unit, and the errors (socket errors and non-2xx/3xx answers)."""

from __future__ import annotations

from typing import Any

import pytest

from bench.__main__ import build_parser
from bench.ingress.benchmark import HAPROXY_BACKEND, _objects, options_from
from bench.ingress.wrk import parse

REPORT = """\
Running 1s test @ http://127.0.0.1:18089/nonexistent
  1 threads and 2 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.61ms    2.85ms  23.36ms   89.65%
    Req/Sec     0.94k   258.71     1.25k    60.00%
  Latency Distribution
     50%  612.00us
     75%    3.02ms
     90%    5.57ms
     99%    1.20s
  951 requests in 1.02s, 482.93KB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:    936.23
Transfer/sec:    475.43KB
"""


def test_a_wrk_latency_report() -> None:
    report = parse(REPORT)
    assert report.requests == 951
    assert report.per_second == 936.23
    assert report.p50 == pytest.approx(612e-6)
    assert report.p90 == pytest.approx(5.57e-3)
    assert report.p99 == pytest.approx(1.2)
    assert report.errors == 7


def test_a_report_without_latency_distribution_is_refused() -> None:
    without = "\n".join(line for line in REPORT.splitlines() if "%" not in line)
    with pytest.raises(ValueError, match="not a wrk --latency report"):
        parse(without)


def test_flags() -> None:
    args = build_parser().parse_args(["ingress", "--seconds", "2", "--connections", "4"])
    options = options_from(args)
    assert (options.seconds, options.connections, options.threads) == (2.0, 4, 2)
    bad = build_parser().parse_args(["ingress", "--connections", "1"])
    with pytest.raises(SystemExit, match="--connections >= --threads"):
        options_from(bad)


def _web_container(backend: str) -> Any:
    deployment: Any = _objects("ns", 2, "ns.example.com", backend)[0]
    return deployment["spec"]["template"]["spec"]["containers"][0]


def test_the_default_backend_answers_itself_over_kept_alive_connections() -> None:
    assert options_from(build_parser().parse_args(["ingress"])).backend == "haproxy"
    web = _web_container("haproxy")
    assert web["image"] == "podplane/ingress-haproxy:dev"
    command = web["command"][2]
    config = command.split("'")[1].replace("\\n", "\n")
    assert config == HAPROXY_BACKEND
    assert "    bind :8080" in config.splitlines()
    assert command.endswith("exec haproxy -db -f /tmp/web.cfg")


def test_the_busybox_backend_is_httpd() -> None:
    args = build_parser().parse_args(["ingress", "--backend", "busybox"])
    assert options_from(args).backend == "busybox"
    web = _web_container("busybox")
    assert web["image"] == "busybox"
    assert web["command"][2].endswith("exec httpd -f -p 8080 -h /www")
    with pytest.raises(SystemExit):
        build_parser().parse_args(["ingress", "--backend", "nginx"])
