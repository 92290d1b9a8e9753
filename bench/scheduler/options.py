"""A scheduler load test's settings (`podplane-bench scheduler`'s flags, bench/scheduler/cli.py),
and the cluster a run starts for itself."""

from __future__ import annotations

from dataclasses import dataclass

from bench.common.processes import ApiserverProcess, EtcdProcess
from bench.scheduler.process import SchedulerProcess


@dataclass(frozen=True)
class Options:
    nodes: int = 1000
    pods: int = 5000
    workload: str = "basic"
    # Pods created per second, each at its time however many are unanswered (clusterloader2's
    # open loop); None: all at once, `concurrency` Create calls in flight: below the
    # apiserver's default --max-mutating-requests-inflight (50), with room for the scheduler's binds
    # (at 64 the excess was refused and retried a second later: 168 pods/s against 213 at 24).
    rate: float | None = None
    concurrency: int = 24
    connections: int = 4
    # Each pod a request of its connection's pod create stream (Pods/CreateStream), not a Create
    # call of its own (--no-create-stream, as clusterloader2 creates them): at --rate 500 the
    # apiserver's 0.1 ms less per pod let the creates keep the rate (docs/benchmarks.md).
    create_stream: bool = True
    server: str | None = None
    out: str = "build/bench/scheduler.json"
    plot: str | None = "build/bench/scheduler.png"
    timeout: float = 600.0
    etcd_ceiling: bool = True
    etcd_duration: float = 3.0
    lease_interval: float = 10.0
    keep: bool = False
    # With --server: Docker containers of that cluster whose CPU the result counts, per pod too
    # (the compose cluster's controller-managers, schedulers, apiserver, etcd).
    containers: tuple[str, ...] = ()
    # With the cluster started here: run the scheduler under cProfile, stats written to this path.
    profile: str | None = None
    # With the cluster started here: run the apiserver under cProfile, stats written to this path
    # when it stops at the end of the run.
    profile_apiserver: str | None = None
    # With the cluster started here: create every pod first and start the scheduler only then, so
    # that the throughput is the scheduler's own (binds and its events included, no creates).
    create_first: bool = False
    # With --server: the apiserver's /metrics (None: http://SERVER-HOST:8080/metrics, its
    # default --metrics-bind-address) and the schedulers' (none: the attempts not measured).
    apiserver_metrics: str | None = None
    scheduler_metrics: tuple[str, ...] = ()


def metrics_url(args: object) -> str | None:
    """http://HOST:PORT/metrics of a process started with `--metrics-bind-address HOST:PORT`
    among `args` (the last one counts, as argparse takes it); None without one."""
    if not isinstance(args, (list, tuple)):
        return None
    words = [str(a) for a in args]
    found = [words[i + 1] for i, w in enumerate(words[:-1]) if w == "--metrics-bind-address"]
    return f"http://{found[-1]}/metrics" if found and found[-1] else None


def server_metrics_url(server: str) -> str:
    """A running cluster's apiserver's /metrics at its default --metrics-bind-address (port
    8080) on the host --server names."""
    host = server.rsplit(":", 1)[0] if ":" in server else server
    return f"http://{host}:8080/metrics"


@dataclass
class OwnCluster:
    etcd: EtcdProcess
    apiserver: ApiserverProcess
    scheduler: SchedulerProcess | None = None

    def metrics_urls(self) -> tuple[list[str], list[str]]:
        """The apiserver's and the scheduler's /metrics, as they were started."""
        apiserver = metrics_url(self.apiserver.process.args)
        return (
            [apiserver] if apiserver else [],
            [self.scheduler.metrics_url] if self.scheduler is not None else [],
        )

    def pids(self) -> dict[str, int]:
        pids = {"etcd": self.etcd.pid, "apiserver": self.apiserver.pid}
        if self.scheduler is not None:
            pids["scheduler"] = self.scheduler.pid
        return pids

    def stop(self) -> None:
        if self.scheduler is not None:
            self.scheduler.stop()
        self.apiserver.stop()
        self.etcd.stop()
