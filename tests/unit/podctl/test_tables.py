"""Tables line up the way kubectl's do: three spaces between columns, the last column unpadded,
widths that never shrink while watching."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from podctl.printers.table import TableOptions, TablePrinter
from podctl.printers.tabwriter import TabWriter
from podplane.api.core.v1 import core_pb2
from podplane.printers.pods import POD_TABLE
from tests.unit.podctl.fakes import obj

NOW = datetime(2026, 11, 21, 15, 10, 0, tzinfo=UTC)


def pod(name: str, phase: str, namespace: str = "default") -> core_pb2.Pod:
    made: core_pb2.Pod = obj(
        core_pb2.Pod,
        {
            "metadata": {
                "name": name,
                "namespace": namespace,
                "creationTimestamp": "2026-11-21T15:09:00Z",
                "labels": {"app": "web"},
            },
            "spec": {"containers": [{"name": "app", "image": "nginx"}], "nodeName": "node-1"},
            "status": {"phase": phase, "podIPs": [{"ip": "10.244.1.5"}]},
        },
    )
    return made


def printer(out: io.StringIO, **options: bool) -> TablePrinter[core_pb2.Pod]:
    return TablePrinter(out, POD_TABLE, TableOptions(**options), clock=lambda: NOW)


def test_pods_table() -> None:
    out = io.StringIO()
    printer(out).print_objects([pod("jumpod", "Running"), pod("a-much-longer-name", "Pending")])
    assert out.getvalue() == (
        "NAME                 READY   STATUS    RESTARTS   AGE\n"
        "jumpod               0/1     Running   0          60s\n"
        "a-much-longer-name   0/1     Pending   0          60s\n"
    )


def test_wide_all_namespaces_with_labels() -> None:
    out = io.StringIO()
    printer(out, wide=True, with_namespace=True, show_labels=True).print_objects(
        [pod("jumpod", "Running", namespace="team-a")]
    )
    assert out.getvalue().splitlines() == [
        "NAMESPACE   NAME     READY   STATUS    RESTARTS   AGE   IP           NODE     "
        "NOMINATED NODE   READINESS GATES   LABELS",
        "team-a      jumpod   0/1     Running   0          60s   10.244.1.5   node-1   "
        "<none>           <none>            app=web",
    ]


def test_watch_rows_follow_without_repeating_the_header() -> None:
    out = io.StringIO()
    p = printer(out)
    p.print_objects([pod("jumpod", "Pending")])
    p.print_objects([pod("jumpod", "ContainerCreating")])
    p.print_objects([pod("jumpod", "Running")])
    assert out.getvalue().splitlines() == [
        "NAME     READY   STATUS    RESTARTS   AGE",
        "jumpod   0/1     Pending   0          60s",
        "jumpod   0/1     ContainerCreating   0          60s",
        # Widths never shrink: the STATUS column stays as wide as ContainerCreating made it.
        "jumpod   0/1     Running             0          60s",
    ]


def test_no_headers() -> None:
    out = io.StringIO()
    printer(out, no_headers=True).print_objects([pod("jumpod", "Running")])
    assert out.getvalue() == "jumpod   0/1   Running   0     60s\n"


def test_tabwriter_aligns_blocks_of_lines_separately() -> None:
    out = io.StringIO()
    w = TabWriter(out, padding=2)
    w.write("Name:\tjumpod\nNamespace:\tdefault\nContainers:\n  app:\n    Image:\tnginx\n")
    w.flush()
    assert out.getvalue() == (
        "Name:       jumpod\nNamespace:  default\nContainers:\n  app:\n    Image:  nginx\n"
    )
