"""`podplane-bench custom-resources`: the ConfigMap and the custom resource it compares are bodies
of the same size, shaped alike, each POSTed to its own collection; the verdict is the custom
resource's creates/s over the ConfigMap's at each client count (the median of the rounds'), met
at 0.8; its flags."""

from __future__ import annotations

import argparse
import json
from typing import Any

import pytest

from bench.apiserver_doors import creators
from bench.custom_resources import benchmark, objects, report

# The host a report describes: the same in every report these tests make.
HOST = {
    "cpus": 2,
    "platform": "Linux",
    "load_average_at_start": 1.0,
    "python": "3.11",
    "aiohttp": "3",
    "etcd_version": "3.4",
    "etcd_data_fs": "ext4",
}


@pytest.mark.parametrize("size", [300, 1024, 10_000])
def test_both_bodies_are_the_same_size_and_shape(size: int) -> None:
    configmap, custom = objects.writes(size)
    assert configmap.path == "/api/v1/namespaces/default/configmaps"
    assert custom.path == "/apis/bench.podplane.io/v1/namespaces/default/payloads"
    assert objects.body_size(configmap.template) == objects.body_size(custom.template) == size
    assert (configmap.template["kind"], custom.template["kind"]) == ("ConfigMap", "Payload")
    assert configmap.template["data"].keys() == custom.template["data"].keys() == {"payload"}
    # Each create adds the same name and labels to either: the sizes stay equal as sent.
    labels = {"bench.podplane.io/cell": objects.CUSTOM_CELL + "10"}
    sent = [
        creators.pod_body(creators.labelled(w.template, labels), "bench-abc-cr10-0-1")
        for w in (configmap, custom)
    ]
    assert len(sent[0]) == len(sent[1])
    assert json.loads(sent[1])["metadata"] == {
        "name": "bench-abc-cr10-0-1",
        "namespace": "default",
        "labels": labels,
    }
    assert len(objects.CONFIGMAP_CELL) == len(objects.CUSTOM_CELL)


def test_a_size_below_the_empty_objects_is_refused() -> None:
    with pytest.raises(ValueError, match="at least"):
        objects.writes(50)


def test_the_definitions_schema_holds_the_payload_as_a_configmaps_data() -> None:
    crd = objects.definition()
    assert crd["metadata"]["name"] == f"{crd['spec']['names']['plural']}.{crd['spec']['group']}"
    [version] = crd["spec"]["versions"]
    schema = version["schema"]["openAPIV3Schema"]
    assert schema["properties"]["data"] == {
        "type": "object",
        "additionalProperties": {"type": "string"},
    }


def cell(kind: str, clients: int, per_second: float, round_index: int = 0) -> dict[str, Any]:
    return {
        "kind": kind,
        "round": round_index,
        "door": "http",
        "clients": clients,
        "created": 100,
        "create": {"per_second": per_second, "p50": 0.002, "p99": 0.01, "errors": 0},
        "cpu_percent": {"apiserver": 90.0, "etcd": 20.0, "clients": 30.0, "host": 190.0},
        "apiserver_cpu_ms_per_create": 1.2,
    }


@pytest.mark.parametrize(
    "configmaps, customs, ratio, met",
    [(1000.0, 800.0, 0.8, True), (1000.0, 799.0, 0.799, False), (0.0, 10.0, None, False)],
)
def test_ratio_per_client_count(
    configmaps: float, customs: float, ratio: float | None, met: bool
) -> None:
    [r] = report.kind_ratios(
        [cell(report.CONFIGMAP, 10, configmaps), cell(report.CUSTOM, 10, customs)]
    )
    assert r["met"] is met
    assert r["ratio"] == (pytest.approx(ratio) if ratio is not None else None)


def test_the_verdict_needs_every_client_count_and_the_markdown_shows_it() -> None:
    cells = [
        cell(report.CONFIGMAP, 1, 200.0),
        cell(report.CUSTOM, 1, 190.0),
        cell(report.CUSTOM, 10, 300.0),
        cell(report.CONFIGMAP, 10, 400.0),
    ]
    verdict = report.verdict(cells)
    assert verdict is not None and not verdict["met"]
    assert [r["met"] for r in verdict["by_clients"]] == [True, False]
    text = report.markdown(
        {
            "command": "podplane-bench custom-resources",
            "started_at": "2026-11-23T18:00:00+00:00",
            "wall_seconds": 60.0,
            "host": HOST,
            "cluster": {"description": "started here"},
            "settings": {"size": 1024, "client_processes": 4, "warmup": 2.0, "duration": 8.0},
            "established_seconds": 0.2,
            "writes": cells,
            "verdict": verdict,
        }
    )
    assert "**not met** (1 clients 0.95, 10 clients 0.75)" in text
    assert "| 1 | 10 | Payload | 300 | 2.0 | 10.0 | 0 | 0.75 | 1.20 |" in text
    assert "| 1 | 10 | ConfigMap | 400 | 2.0 | 10.0 | 0 |  | 1.20 |" in text


def test_with_rounds_a_client_count_is_judged_by_the_median_of_its_paired_rounds() -> None:
    cells = [
        # Round 0: the host slow for the custom resource's cell only.
        cell(report.CONFIGMAP, 1, 400.0, 0),
        cell(report.CUSTOM, 1, 260.0, 0),
        # Rounds 1 and 2: the whole host faster, then slower: each pair shares it.
        cell(report.CUSTOM, 1, 450.0, 1),
        cell(report.CONFIGMAP, 1, 500.0, 1),
        cell(report.CONFIGMAP, 1, 300.0, 2),
        cell(report.CUSTOM, 1, 255.0, 2),
    ]
    [r] = report.kind_ratios(cells)
    assert r["rounds"] == [pytest.approx(0.65), pytest.approx(0.9), pytest.approx(0.85)]
    assert r["ratio"] == pytest.approx(0.85)
    assert r["met"]
    # Not the ratio of the medians (255..450 over 300..500: 260/400 = 0.65).
    assert (r["configmap_per_second"], r["custom_per_second"]) == (400.0, 260.0)
    # A round missing its pair is left out; a round without ConfigMaps makes it unknown.
    [lone] = report.kind_ratios([*cells, cell(report.CUSTOM, 1, 10.0, 3)])
    assert len(lone["rounds"]) == 3
    [unknown] = report.kind_ratios(
        [*cells, cell(report.CUSTOM, 1, 10.0, 3), cell(report.CONFIGMAP, 1, 0.0, 3)]
    )
    assert unknown["ratio"] is None and not unknown["met"]
    verdict = report.verdict(cells)
    assert verdict is not None and verdict["met"]
    assert "0.85 (median of 3: 0.65-0.90)" in report._ratio(r)


def parse(*argv: str) -> benchmark.Options:
    parser = argparse.ArgumentParser()
    benchmark.add_parser(parser.add_subparsers(dest="command"))
    return benchmark.options_from(parser.parse_args(["custom-resources", *argv]))


def test_flags() -> None:
    o = parse()
    assert (o.clients, o.client_processes, o.warmup, o.duration, o.size, o.rounds) == (
        (1, 10, 50),
        4,
        2.0,
        8.0,
        1024,
        3,
    )
    assert parse("--rounds", "1").rounds == 1
    with pytest.raises(SystemExit, match="--rounds must be >= 1"):
        parse("--rounds", "0")
    assert (parse("--quick").warmup, parse("--quick").duration) == (1.0, 3.0)
    assert parse("--quick", "--duration", "5", "--clients", "2,20").clients == (2, 20)
    with pytest.raises(SystemExit, match="at least"):
        parse("--size", "10")
    assert [benchmark.kind_order(i) for i in (0, 1)] == [
        (report.CONFIGMAP, report.CUSTOM),
        (report.CUSTOM, report.CONFIGMAP),
    ]


def test_each_payload_row_shows_its_own_rounds_ratio_even_after_an_unpaired_round() -> None:
    cells = [
        cell(report.CUSTOM, 1, 10.0, 0),  # round 0 lost its ConfigMap cell
        cell(report.CONFIGMAP, 1, 400.0, 1),
        cell(report.CUSTOM, 1, 360.0, 1),
    ]
    text = report.markdown(
        {
            "command": "podplane-bench custom-resources",
            "started_at": "2026-11-24T14:00:00+00:00",
            "wall_seconds": 30.0,
            "host": HOST,
            "cluster": {"description": "started here"},
            "settings": {
                "size": 1024,
                "client_processes": 4,
                "warmup": 2.0,
                "duration": 8.0,
                "rounds": 2,
            },
            "established_seconds": 0.2,
            "writes": cells,
            "verdict": report.verdict(cells),
        }
    )
    assert "| 1 | 1 | Payload | 10 | 2.0 | 10.0 | 0 | – | 1.20 |" in text
    assert "| 2 | 1 | Payload | 360 | 2.0 | 10.0 | 0 | 0.90 | 1.20 |" in text
    assert "**met** (1 clients 0.90)" in text
