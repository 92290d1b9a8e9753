"""ComponentStatus computed from probes, as pkg/registry/core/componentstatus reports them: one
Healthy condition per server, True/False/Unknown from the probe's result, its message and error,
and the table kubectl prints."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from apiserver import errors
from apiserver.registry.componentstatus.rest import ComponentStatuses, component_status
from apiserver.registry.componentstatus.validator import Check, EtcdServer, Result
from apiserver.storage.etcd import EtcdUnavailable
from podplane.printers.component_status import component_status_row


class FakeServer:
    def __init__(self, check: Check) -> None:
        self.result = check
        self.calls = 0

    async def check(self) -> Check:
        self.calls += 1
        return self.result


@pytest.mark.parametrize(
    ("check", "condition", "row"),
    [
        (Check(Result.SUCCESS, "ok"), ("True", "ok", ""), ["s", "Healthy", "ok", ""]),
        (
            Check(Result.FAILURE, "HTTP probe failed with statuscode: 500"),
            ("False", "HTTP probe failed with statuscode: 500", ""),
            ["s", "Unhealthy", "HTTP probe failed with statuscode: 500", ""],
        ),
        (
            Check(Result.FAILURE, error="etcdserver: request timed out"),
            ("False", "", "etcdserver: request timed out"),
            ["s", "Unhealthy", "", "etcdserver: request timed out"],
        ),
        (
            Check(Result.WARNING, "Probe terminated redirects, Response body: x"),
            ("Unknown", "Probe terminated redirects, Response body: x", ""),
            ["s", "Unhealthy", "Probe terminated redirects, Response body: x", ""],
        ),
    ],
)
def test_one_healthy_condition_from_the_probe(
    check: Check, condition: tuple[str, str, str], row: list[str]
) -> None:
    got = component_status("s", check)
    assert (got.api_version, got.kind, got.metadata.name) == ("v1", "ComponentStatus", "s")
    (c,) = got.conditions
    assert (c.type, c.status, c.message, c.error) == ("Healthy", *condition)
    assert component_status_row(got, datetime.now(UTC)) == row


async def test_list_probes_every_server_in_name_order() -> None:
    servers = {
        "scheduler": FakeServer(Check(Result.SUCCESS, "ok")),
        "etcd-0": FakeServer(Check(Result.SUCCESS, "ok")),
        "controller-manager": FakeServer(Check(Result.FAILURE, "refused")),
    }
    api = ComponentStatuses(lambda: servers)
    listed = await api.list()
    assert [i.metadata.name for i in listed.items] == ["controller-manager", "etcd-0", "scheduler"]
    assert [i.conditions[0].status for i in listed.items] == ["False", "True", "True"]
    assert all(s.calls == 1 for s in servers.values())
    only = await api.list(field_selector="metadata.name=etcd-0")
    assert [i.metadata.name for i in only.items] == ["etcd-0"]
    assert (await api.list(label_selector="app=x")).items == []


async def test_get_of_an_unknown_component_is_kubernetes_plain_error() -> None:
    api = ComponentStatuses(lambda: {"etcd-0": FakeServer(Check(Result.SUCCESS, "ok"))})
    assert (await api.get("etcd-0")).conditions[0].status == "True"
    with pytest.raises(errors.APIError) as e:
        await api.get("nope")
    assert e.value.reason == "InternalError"
    assert e.value.message == "Internal error occurred: Component not found: nope"


async def test_etcd_is_ok_when_it_answers_and_failed_with_the_error_when_not() -> None:
    async def answers() -> None:
        return None

    async def down() -> None:
        raise EtcdUnavailable("etcd: UNAVAILABLE: connection refused")

    assert await EtcdServer(answers).check() == Check(Result.SUCCESS, "ok")
    assert await EtcdServer(down).check() == Check(
        Result.FAILURE, "", "etcd: UNAVAILABLE: connection refused"
    )
