"""The scheduler load test's node leases: renewed at the kubelet's interval (kubemark's hollow
nodes), or never with `--lease-interval 0` (scheduler_perf's nodes, which have no kubelet), and
its summary saying which."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest

from bench.__main__ import build_parser, main
from bench.scheduler.hollow_nodes import HollowNodes
from bench.scheduler.summary import summary_line
from podplane.api.coordination.v1 import lease_pb2
from podplane.client.clientset import Client
from tests.unit.bench.scheduler_results import scheduler_result
from tests.unit.waiting import until


class _Leases:
    def __init__(self) -> None:
        self.updated: list[str] = []

    async def update(self, lease: lease_pb2.Lease) -> lease_pb2.Lease:
        self.updated.append(lease.metadata.name)
        return lease


class _Client:
    def __init__(self) -> None:
        self.leases = _Leases()


def _hollow(interval: float) -> tuple[HollowNodes, _Leases]:
    client = _Client()
    hollow = HollowNodes(cast(Client, client), "run1", 2, "basic", renew_interval=interval)
    for name in hollow.names:
        hollow._leases[name] = lease_pb2.Lease()
        hollow._leases[name].metadata.name = name
    return hollow, client.leases


async def test_leases_are_renewed_at_the_interval_and_never_at_0() -> None:
    renewing, renewed = _hollow(0.01)
    renewing.start_renewing()
    try:
        await until(lambda: set(renewing.names) <= set(renewed.updated), "every lease renewed")
    finally:
        await renewing.stop_renewing()

    kept, updates = _hollow(0)
    kept.start_renewing()
    assert kept._renewers == []  # no task that could renew
    await asyncio.sleep(0)
    assert updates.updated == []


def test_the_interval_must_be_0_or_more_seconds(capsys: pytest.CaptureFixture[str]) -> None:
    parser = build_parser()
    assert parser.parse_args(["scheduler", "--lease-interval", "0"]).lease_interval == 0
    for bad in ("-1", "soon", "inf", "nan"):
        with pytest.raises(SystemExit):
            parser.parse_args(["scheduler", "--lease-interval", bad])
        assert "--lease-interval" in capsys.readouterr().err


def test_unrenewed_leases_need_the_cluster_started_here() -> None:
    with pytest.raises(SystemExit, match="--lease-interval 0 needs the cluster started here"):
        main(["scheduler", "--server", "127.0.0.1:1", "--lease-interval", "0"])


def _with_interval(interval: float, **extra: Any) -> dict[str, Any]:
    return scheduler_result(settings={"lease_interval": interval}, **extra)


def test_the_summary_says_how_the_leases_were_kept() -> None:
    renewed = summary_line(_with_interval(10.0, lease_renewals=5080, lease_renewal_errors=2))
    assert "; node leases renewed every 10 s (5080 renewals, 2 failed); CPU " in renewed
    never = summary_line(_with_interval(0.0))
    assert "; node leases never renewed (scheduler_perf's nodes); CPU " in never
    assert "lease" not in summary_line(scheduler_result())
