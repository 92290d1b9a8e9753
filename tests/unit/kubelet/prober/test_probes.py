"""Probe workers and the probe manager (pkg/kubelet/prober): thresholds, the initial delay, the
startup probe holding liveness and readiness, the verdicts on started and ready; and the exec,
httpGet and tcpSocket handlers themselves."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from kubelet.prober import ProbeManager, ProbeType, Result
from kubelet.prober.probes import Outcome, ProbeError, run_probe
from kubelet.prober.worker import ProbeWorker
from kubelet.runtime.hollow import HollowRuntime
from kubelet.runtime.types import ContainerConfig, ContainerState, ContainerStatus, PodRef
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import timeutil
from tests.unit.kubelet.podbuild import container, pod
from tests.unit.kubelet.synctest import FakeProber

NOW = 1_800_000_000.0


class Fixture:
    def __init__(self, p: core_pb2.Pod, prober: FakeProber) -> None:
        self.pod = p
        self.now = NOW
        self.changed: list[str] = []
        self.manager = ProbeManager(
            HollowRuntime(),
            self.changed.append,
            prober=prober,
            clock=lambda: self.now,
            start_workers=False,
        )
        self.manager.add_pod(p)

    def worker(self, probe_type: ProbeType, name: str = "app") -> ProbeWorker:
        return self.manager.workers[(self.pod.metadata.uid, name, probe_type)]

    def observe(
        self, container_id: str = "c1", running_since: float = NOW - 100, terminated: bool = False
    ) -> core_pb2.PodStatus:
        """The kubelet generated a status with the container running (verdicts applied)."""
        s = core_pb2.ContainerStatus(
            name="app", container_id=f"docker://{container_id}", started=True, ready=True
        )
        if terminated:
            s.state.terminated.exit_code = 1
        else:
            s.state.running.started_at = timeutil.format_time(
                datetime.fromtimestamp(running_since, UTC)
            )
        status = core_pb2.PodStatus(phase="Running", pod_ip="10.244.0.9", container_statuses=[s])
        self.manager.apply(self.pod, status.container_statuses)
        self.manager.observe(self.pod, status)
        return status


def probe(**fields: Any) -> core_pb2.Probe:
    return core_pb2.Probe(exec=core_pb2.ExecAction(command=["true"]), **fields)


def probed_pod(**probes: Any) -> core_pb2.Pod:
    return pod(container("app", **probes))


async def test_liveness_fails_only_after_failure_threshold_in_a_row_then_holds() -> None:
    prober = FakeProber(Result.FAILURE)
    f = Fixture(probed_pod(liveness_probe=probe(failure_threshold=3)), prober)
    f.observe()
    w = f.worker(ProbeType.LIVENESS)
    cache = f.manager.results[ProbeType.LIVENESS]
    for _ in range(2):
        await w.do_probe()
        assert cache.get("c1") == Result.SUCCESS  # a live container is alive until proven not
    await w.do_probe()
    assert cache.get("c1") == Result.FAILURE and f.changed[-1] == "default/web"
    calls = len(prober.calls)
    await w.do_probe()
    assert len(prober.calls) == calls  # on hold until the container is replaced
    f.observe("c2")
    await w.do_probe()
    assert len(prober.calls) == calls + 1 and cache.get("c1") is None
    assert cache.get("c2") == Result.SUCCESS


async def test_a_success_breaks_a_failure_streak() -> None:
    prober = FakeProber(
        Result.FAILURE,
        Result.FAILURE,
        Result.SUCCESS,
        Result.FAILURE,
        Result.FAILURE,
        Result.SUCCESS,
    )
    f = Fixture(probed_pod(liveness_probe=probe(failure_threshold=3)), prober)
    f.observe()
    for _ in range(6):
        await f.worker(ProbeType.LIVENESS).do_probe()
    assert f.manager.results[ProbeType.LIVENESS].get("c1") == Result.SUCCESS


async def test_readiness_needs_success_threshold_successes_and_defaults_to_not_ready() -> None:
    prober = FakeProber(Result.SUCCESS, Result.SUCCESS, Result.FAILURE)
    f = Fixture(probed_pod(readiness_probe=probe(success_threshold=2, failure_threshold=1)), prober)
    status = f.observe()
    assert not status.container_statuses[0].ready  # a readiness probe that has not run
    w = f.worker(ProbeType.READINESS)
    await w.do_probe()
    assert not f.observe().container_statuses[0].ready
    await w.do_probe()
    assert f.observe().container_statuses[0].ready
    await w.do_probe()
    assert not f.observe().container_statuses[0].ready  # readiness failures never hold


async def test_no_probe_before_the_initial_delay() -> None:
    prober = FakeProber(Result.FAILURE)
    f = Fixture(
        probed_pod(liveness_probe=probe(initial_delay_seconds=5, failure_threshold=1)), prober
    )
    f.observe(running_since=NOW - 2)
    w = f.worker(ProbeType.LIVENESS)
    await w.do_probe()
    assert prober.calls == [] and w.delay_left == pytest.approx(3)
    f.now = NOW + 3.5
    await w.do_probe()
    assert len(prober.calls) == 1
    assert f.manager.results[ProbeType.LIVENESS].get("c1") == Result.FAILURE


async def test_startup_probe_holds_liveness_and_readiness_until_it_succeeds() -> None:
    prober = FakeProber(Result.FAILURE, Result.SUCCESS, Result.SUCCESS)
    f = Fixture(
        probed_pod(
            startup_probe=probe(failure_threshold=5),
            liveness_probe=probe(),
            readiness_probe=probe(),
        ),
        prober,
    )
    s = f.observe().container_statuses[0]
    assert (s.started, s.ready) == (False, False)
    for t in (ProbeType.LIVENESS, ProbeType.READINESS):
        await f.worker(t).do_probe()
    assert prober.calls == []  # held by the startup probe
    startup = f.worker(ProbeType.STARTUP)
    await startup.do_probe()
    assert not f.observe().container_statuses[0].started  # one failure of five
    await startup.do_probe()
    s = f.observe().container_statuses[0]
    assert (s.started, s.ready) == (True, False)  # started; readiness has not run yet
    await startup.do_probe()
    assert [t for t, _, _ in prober.calls] == [ProbeType.STARTUP] * 2  # done once started
    await f.worker(ProbeType.READINESS).do_probe()
    s = f.observe().container_statuses[0]
    assert (s.started, s.ready) == (True, True)


async def test_a_startup_probe_that_fails_condemns_the_container() -> None:
    f = Fixture(probed_pod(startup_probe=probe(failure_threshold=2)), FakeProber(Result.FAILURE))
    f.observe()
    for _ in range(2):
        await f.worker(ProbeType.STARTUP).do_probe()
    running = ContainerStatus(
        id="c1",
        pod=PodRef("uid-1", "web", "default"),
        name="app",
        sandbox_id="s",
        restart_count=0,
        state=ContainerState.RUNNING,
        created_at="",
    )
    verdict = f.manager.unhealthy(f.pod, running)
    assert verdict is not None and verdict.message == "Container app failed startup probe"


async def test_without_probes_a_running_container_is_started_and_ready() -> None:
    f = Fixture(probed_pod(), FakeProber(Result.SUCCESS))
    s = f.observe().container_statuses[0]
    assert (s.started, s.ready) == (True, True) and f.manager.workers == {}


async def test_liveness_stops_when_the_pod_is_being_deleted_and_workers_end_with_the_pod() -> None:
    prober = FakeProber(Result.FAILURE)
    f = Fixture(probed_pod(liveness_probe=probe(failure_threshold=1)), prober)
    f.pod.metadata.deletion_timestamp = "2026-01-01T00:00:00Z"
    f.observe()
    assert await f.worker(ProbeType.LIVENESS).do_probe() is False
    assert prober.calls == []
    assert f.manager.results[ProbeType.LIVENESS].get("c1") == Result.SUCCESS
    f.manager.keep_only("default/web", "another-uid")
    assert f.manager.workers == {}


async def test_a_container_that_exited_under_never_is_probed_no_more() -> None:
    p = probed_pod(readiness_probe=probe())
    p.spec.restart_policy = "Never"
    f = Fixture(p, FakeProber(Result.SUCCESS))
    f.observe(terminated=True)
    assert await f.worker(ProbeType.READINESS).do_probe() is False


# ---------------------------------------------------------------------- the handlers
async def test_exec_probe_result_is_the_exit_code_and_output() -> None:
    runtime = HollowRuntime()
    answers = {"ok": (0, "fine"), "bad": (1, "boom\n")}

    async def handler(c: ContainerStatus, cmd: Sequence[str]) -> tuple[int, str]:
        return answers[cmd[0]]

    runtime.exec_handler = handler
    cid = await _running_container(runtime)
    app = container("app")
    ok = core_pb2.Probe(exec=core_pb2.ExecAction(command=["ok"]))
    bad = core_pb2.Probe(exec=core_pb2.ExecAction(command=["bad"]))
    assert await run_probe(runtime, ok, app, cid, "") == Outcome(Result.SUCCESS, "fine")
    assert await run_probe(runtime, bad, app, cid, "") == Outcome(Result.FAILURE, "boom\n")


async def _running_container(runtime: HollowRuntime) -> str:
    ref = PodRef("uid-1", "web", "default")
    cid = await runtime.create_container(
        "s", ContainerConfig(pod=ref, name="app", image="busybox:latest", restart_count=0)
    )
    await runtime.start_container(cid)
    return cid


class HTTPServer:
    def __init__(self) -> None:
        self.status = 200
        self.requests: list[str] = []
        self.server: asyncio.Server | None = None

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        self.requests.append(head.decode())
        writer.write(f"HTTP/1.1 {self.status} X\r\nContent-Length: 2\r\n\r\nhi".encode())
        await writer.drain()
        writer.close()

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])


@pytest.fixture
async def http_server() -> AsyncIterator[HTTPServer]:
    s = HTTPServer()
    s.server = await asyncio.start_server(s.handle, "127.0.0.1", 0)
    yield s
    s.server.close()


@pytest.mark.parametrize(
    "status,result",
    [(200, Result.SUCCESS), (302, Result.SUCCESS), (404, Result.FAILURE), (500, Result.FAILURE)],
)
async def test_http_get_succeeds_on_200_to_399(
    http_server: HTTPServer, status: int, result: Result
) -> None:
    http_server.status = status
    app = container(
        "app", ports=[core_pb2.ContainerPort(name="http", container_port=http_server.port)]
    )
    p = core_pb2.Probe(
        http_get=core_pb2.HTTPGetAction(
            path="/healthz",
            port="http",
            http_headers=[core_pb2.HTTPHeader(name="X-Probe", value="yes")],
        )
    )
    outcome = await run_probe(HollowRuntime(), p, app, "c1", "127.0.0.1")
    assert outcome.result == result
    if result == Result.FAILURE:
        assert outcome.output == f"HTTP probe failed with statuscode: {status}"
    request = http_server.requests[-1]
    assert request.startswith("GET /healthz HTTP/1.1\r\n") and "X-Probe: yes\r\n" in request
    assert "User-Agent: kube-probe/" in request


async def test_http_get_and_tcp_fail_when_nothing_listens(http_server: HTTPServer) -> None:
    port = http_server.port
    assert http_server.server is not None
    http_server.server.close()
    await http_server.server.wait_closed()
    app = container("app")
    http = core_pb2.Probe(http_get=core_pb2.HTTPGetAction(path="/", port=str(port)))
    outcome = await run_probe(HollowRuntime(), http, app, "c1", "127.0.0.1")
    assert outcome.result == Result.FAILURE and "refused" in outcome.output.lower()
    tcp = core_pb2.Probe(tcp_socket=core_pb2.TCPSocketAction(port=str(port)))
    outcome = await run_probe(HollowRuntime(), tcp, app, "c1", "127.0.0.1")
    assert outcome.result == Result.FAILURE and outcome.output.startswith("dial tcp 127.0.0.1:")


async def test_tcp_succeeds_when_the_port_accepts(http_server: HTTPServer) -> None:
    tcp = core_pb2.Probe(tcp_socket=core_pb2.TCPSocketAction(port=str(http_server.port)))
    outcome = await run_probe(HollowRuntime(), tcp, container("app"), "c1", "127.0.0.1")
    assert outcome.result == Result.SUCCESS


async def test_an_unknown_named_port_is_an_error_not_a_failure() -> None:
    p = core_pb2.Probe(tcp_socket=core_pb2.TCPSocketAction(port="metrics"))
    with pytest.raises(ProbeError, match="couldn't find port: metrics"):
        await run_probe(HollowRuntime(), p, container("app"), "c1", "127.0.0.1")
