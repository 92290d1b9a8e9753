"""`python -m scheduler` started by the load test against the apiserver it started, on free
loopback ports, stopped by PID at the end (as bench/common/processes.py does for etcd and the
apiserver)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from typing import IO

from bench.common.processes import free_port, wait_serving


@dataclass
class SchedulerProcess:
    process: subprocess.Popen[bytes]
    health_target: str
    log_path: str
    log: IO[bytes]
    # Its /metrics (scheduler_schedule_attempts_total among them).
    metrics_url: str = ""

    @property
    def pid(self) -> int:
        return self.process.pid

    @classmethod
    def start(
        cls,
        apiserver: str,
        log_dir: str,
        log_level: str = "WARNING",
        profile_out: str | None = None,
    ) -> SchedulerProcess:
        """With `profile_out`, runs under cProfile timed by CPU time (bench.common.profiled, as the
        apiserver's profile), which writes its stats there when SIGTERM stops the scheduler
        gracefully."""
        health, metrics = free_port(), free_port()
        run = (
            ["-m", "bench.common.profiled", profile_out, "scheduler"]
            if profile_out
            else ["-m", "scheduler"]
        )
        args = [
            sys.executable,
            *run,
            "--server",
            apiserver,
            "--bind-address",
            "127.0.0.1",
            "--health-port",
            str(health),
            "--metrics-bind-address",
            f"127.0.0.1:{metrics}",
            "--log-level",
            log_level,
        ]
        log_path = os.path.join(log_dir, "scheduler.log")
        log = open(log_path, "wb")
        process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        scheduler = cls(
            process, f"127.0.0.1:{health}", log_path, log, f"http://127.0.0.1:{metrics}/metrics"
        )
        try:
            # SERVING once its node and pod caches are synced.
            wait_serving(scheduler.health_target, timeout=120, process=process)
        except RuntimeError as e:
            scheduler.stop()
            raise RuntimeError(f"scheduler did not start: {e}; see {log_path}") from None
        return scheduler

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
