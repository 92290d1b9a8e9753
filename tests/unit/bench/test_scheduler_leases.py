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
    """The apiserver's leases: each update answered at once, or held until `answer` is set."""

    def __init__(self) -> None:
        self.updated: list[str] = []
        self.read: list[str] = []
        self.waiting = 0
        self.answer: asyncio.Event | None = None

    async def get(self, name: str, namespace: str) -> lease_pb2.Lease:
        self.read.append(f"{namespace}/{name}")
        return lease_pb2.Lease()

    async def update(self, lease: lease_pb2.Lease) -> lease_pb2.Lease:
        self.updated.append(lease.metadata.name)
        if self.answer is not None:
            self.waiting += 1
            try:
                await self.answer.wait()
            finally:
                self.waiting -= 1
        return lease


class _Client:
    def __init__(self) -> None:
        self.leases = _Leases()


def _hollow(interval: float, nodes: int = 2) -> tuple[HollowNodes, _Leases]:
    client = _Client()
    hollow = HollowNodes(cast(Client, client), "run1", nodes, "basic", renew_interval=interval)
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
    assert kept._renewer is None  # no task that could renew
    await asyncio.sleep(0)
    assert updates.updated == []


async def test_each_lease_is_renewed_at_its_turn_without_waiting_for_the_others() -> None:
    """A slow apiserver does not slow the renewals down, as it does not slow 40 kubelets: every
    lease's renewal is sent while none is answered (renewing one at a time, or a few, held the
    load test's renewals at a third of kubemark's rate at 15000 nodes); a lease whose renewal is
    still unanswered at its next turn is not sent twice; all are counted once answered."""
    hollow, leases = _hollow(0.05, nodes=40)
    leases.answer = asyncio.Event()
    hollow.start_renewing()
    try:
        await until(lambda: leases.waiting == 40, "every lease's renewal in flight at once")
        await until(lambda: hollow.renewals_skipped >= 40, "a second turn of every lease")
        assert sorted(leases.updated) == sorted(hollow.names)  # none sent twice
        assert hollow.renewals == 0
        leases.answer.set()
        await until(lambda: hollow.renewals >= 80, "the renewals answered, and the next turns")
    finally:
        await hollow.stop_renewing()
    assert hollow.renewal_errors == 0 and not hollow._renewing


async def test_reading_turns_get_each_lease_and_renew_none() -> None:
    """`podplane-bench lease-renewals`' comparison: the same turns, each a Get of its lease."""
    hollow, leases = _hollow(0.01, nodes=3)
    hollow.start_renewing(reading=True)
    try:
        await until(lambda: hollow.renewals >= 6, "two turns of every lease answered")
    finally:
        await hollow.stop_renewing()
    assert leases.updated == []
    assert set(leases.read) == {f"kube-node-lease/{name}" for name in hollow.names}
    assert hollow.renewals == len(leases.read) and hollow.renewal_errors == 0


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
    measured = summary_line(
        _with_interval(
            10.0, lease_renewals=9000, lease_renewals_per_second=498.6, lease_renewals_skipped=3
        )
    )
    assert (
        "; node leases renewed every 10 s (9000 renewals, 499 a second while scheduling, 0 "
        "failed, 3 turns skipped, the last still in flight); CPU "
    ) in measured
    never = summary_line(_with_interval(0.0))
    assert "; node leases never renewed (scheduler_perf's nodes); CPU " in never
    assert "lease" not in summary_line(scheduler_result())
