"""The load test's attempts and writes per pod: read from the scheduler's and the apiserver's
/metrics text, the measured phase's deltas divided by the pods measured, and "not measured" (never
a zero) when a page cannot be read."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator

import pytest

from bench.scheduler.component_metrics import (
    Counts,
    PhaseCounts,
    attempts_by_result,
    attempts_per_pod,
    delta,
    figures,
    scrape,
    writes_by_request,
    writes_per_pod,
)
from bench.scheduler.options import Options, metrics_url, server_metrics_url
from bench.scheduler.summary import per_pod_counts

SCHEDULER_PAGE = """\
# HELP scheduler_schedule_attempts_total Number of attempts to schedule pods, by the result.
# TYPE scheduler_schedule_attempts_total counter
scheduler_schedule_attempts_total{profile="default-scheduler",result="scheduled"} 500.0
scheduler_schedule_attempts_total{profile="default-scheduler",result="unschedulable"} 12.0
scheduler_schedule_attempts_total{profile="other",result="scheduled"} 100.0
# HELP scheduler_pending_pods Number of pending pods.
# TYPE scheduler_pending_pods gauge
scheduler_pending_pods{queue="active"} 3.0
"""

APISERVER_PAGE = """\
# HELP apiserver_request_total Counter of apiserver requests.
# TYPE apiserver_request_total counter
apiserver_request_total{code="OK",resource="pods",subresource="",verb="POST"} 600.0
apiserver_request_total{code="ALREADY_EXISTS",resource="pods",subresource="",verb="POST"} 2.0
apiserver_request_total{code="OK",resource="pods",subresource="binding",verb="POST"} 500.0
apiserver_request_total{code="OK",resource="pods",subresource="status",verb="PUT"} 40.0
apiserver_request_total{code="OK",resource="pods",subresource="",verb="LIST"} 9.0
apiserver_request_total{code="OK",resource="events",subresource="",verb="PATCH"} 7.0
apiserver_request_total{code="OK",resource="leases",subresource="",verb="PUT"} 300.0
apiserver_request_total{code="OK",resource="pods",subresource="",verb="DELETE"} 1.0
apiserver_request_total{code="OK",resource="nodes",subresource="",verb="WATCH"} 4.0
"""


def test_attempts_are_read_by_result_over_every_profile() -> None:
    assert attempts_by_result(SCHEDULER_PAGE) == {"scheduled": 600.0, "unschedulable": 12.0}


def test_writes_are_the_mutating_requests_by_resource_subresource_and_verb() -> None:
    assert writes_by_request(APISERVER_PAGE) == {
        "pods create": 602.0,  # every code: a refused write is a request too
        "pods/binding create": 500.0,
        "pods/status update": 40.0,
        "events patch": 7.0,
        "leases update": 300.0,
        "pods delete": 1.0,
    }


def test_a_delta_keeps_what_moved_and_counts_new_keys_from_zero() -> None:
    before = {"pods create": 100.0, "leases update": 50.0, "nodes create": 3.0}
    after = {"pods create": 600.0, "leases update": 70.0, "nodes create": 3.0, "events create": 5}
    assert delta(before, after) == {
        "events create": 5.0,
        "leases update": 20.0,
        "pods create": 500.0,
    }


def test_attempts_per_pod_name_every_result_and_their_total() -> None:
    assert attempts_per_pod({"scheduled": 500.0, "unschedulable": 25.0}, 500) == {
        "scheduled": 1.0,
        "unschedulable": 0.05,
        "error": 0.0,
        "total": 1.05,
    }


def test_writes_per_pod_total_leaves_out_the_lease_renewals() -> None:
    moved = {
        "pods create": 500.0,
        "pods/binding create": 500.0,
        "events create": 500.0,
        "leases update": 250.0,
    }
    per_pod = writes_per_pod(moved, 500)
    assert per_pod["by_request"]["leases update"] == 0.5
    assert per_pod["total"] == pytest.approx(3.0)
    assert per_pod["total_leaves_out"] == ["leases"]


def test_figures_are_not_measured_when_a_page_was_not_read_or_a_counter_went_back() -> None:
    read = Counts({"scheduled": 10.0})
    assert figures(Counts({}), read, 10, attempts_per_pod) == {
        "measured": True,
        "pods": 10,
        "counts": {"scheduled": 10.0},
        "per_pod": {"scheduled": 1.0, "unschedulable": 0.0, "error": 0.0, "total": 1.0},
    }
    unread = Counts({}, "http://x/metrics: refused")
    assert figures(unread, read, 10, attempts_per_pod) == {
        "measured": False,
        "why": "http://x/metrics: refused",
    }
    restarted = figures(Counts({"scheduled": 20.0}), read, 10, attempts_per_pod)
    assert restarted["measured"] is False and "went back" in restarted["why"]


def test_the_summary_gives_the_figures_or_says_they_are_not_measured() -> None:
    result = {
        "scheduling_attempts": figures(
            Counts({}), Counts({"scheduled": 10.0, "unschedulable": 1.0}), 10, attempts_per_pod
        ),
        "apiserver_writes": {"measured": False, "why": "no /metrics address"},
    }
    assert per_pod_counts(result) == (
        "; attempts per pod 1.10 (scheduled 1.000, unschedulable 0.100)"
        "; apiserver writes per pod not measured (no /metrics address)"
    )
    assert per_pod_counts({}) == ""


def test_the_metrics_address_is_the_one_a_process_was_started_with() -> None:
    args = ["python", "-m", "apiserver", "--metrics-bind-address", "127.0.0.1:1", "--port", "2"]
    assert metrics_url(args) == "http://127.0.0.1:1/metrics"
    assert metrics_url([*args, "--metrics-bind-address", "127.0.0.1:3"]) == (
        "http://127.0.0.1:3/metrics"
    )
    assert metrics_url(["python", "-m", "apiserver"]) is None
    assert metrics_url("python -m apiserver") is None
    assert server_metrics_url("10.0.0.7:6443") == "http://10.0.0.7:8080/metrics"


@pytest.fixture
def pages() -> Iterator[str]:
    """An HTTP server answering /scheduler and /apiserver with the pages above; its base URL."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            page = {"/scheduler": SCHEDULER_PAGE, "/apiserver": APISERVER_PAGE}.get(self.path)
            if page is None:
                self.send_error(404)
                return
            body = page.encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_scraping_sums_the_pages_and_says_which_one_failed(pages: str) -> None:
    both = scrape([f"{pages}/scheduler", f"{pages}/scheduler"], attempts_by_result)
    assert both == Counts({"scheduled": 1200.0, "unschedulable": 24.0})
    missing = scrape([f"{pages}/scheduler", f"{pages}/nope"], attempts_by_result)
    assert missing.values == {} and missing.error and f"{pages}/nope" in missing.error
    assert scrape([], attempts_by_result).error == "no /metrics address"


async def test_against_a_running_cluster_the_attempts_need_the_schedulers_pages(
    pages: str,
) -> None:
    counts = PhaseCounts(
        Options(server="127.0.0.1:1", apiserver_metrics=f"{pages}/apiserver"), None
    )
    await counts.before(scheduler=True)
    await counts.after_scheduling()
    await counts.after_writes()
    per_pod = counts.per_pod(100, created=0, bound=0)
    assert per_pod["scheduling_attempts"] == {
        "measured": False,
        "why": "no --scheduler-metrics given",
    }
    # Nothing was written between the two reads, and the run created nothing.
    assert per_pod["apiserver_writes"]["measured"] is True
    assert per_pod["apiserver_writes"]["per_pod"]["total"] == 0.0


async def test_a_page_that_did_not_count_the_runs_pods_is_not_this_clusters(pages: str) -> None:
    """The default address may reach another apiserver (the compose cluster's, published on
    127.0.0.1:8080, while --server is another): its unmoved counters are no zero to report."""
    counts = PhaseCounts(
        Options(server="127.0.0.1:1", apiserver_metrics=f"{pages}/apiserver"), None
    )
    await counts.before(scheduler=False)
    await counts.after_writes()
    writes = counts.per_pod(100, created=100, bound=100)["apiserver_writes"]
    assert writes["measured"] is False
    assert "'pods create' moved by 0, fewer than the run's 100" in writes["why"]
