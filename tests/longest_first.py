"""The modules that take longest, handed out first: pytest-xdist's loadscope sends whole modules
to its workers in collection order, each worker taking the next when it is done, so a long module
collected last runs on after the others have finished and the pass lasts as long as it does. With
the long ones first (the longest-processing-time rule), the short ones fill the gaps at the end.

The lists name the modules that took longest (setup, calls and teardown summed from `pytest
--durations 0`; e2e: 2026-11-27, 1,997 s over 55 modules): keep them in step when a module's
time changes much. The order inside
each list is the order they go out; every other module follows in collection order."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

E2E = (
    "tests/e2e/test_fresh_clone.py",
    "tests/e2e/test_bench_smoke.py",
    "tests/e2e/test_in_cluster_client.py",
    "tests/e2e/test_kopf_site_operator.py",
    "tests/e2e/test_kubectl_run.py",
    "tests/e2e/test_cronjobs.py",
    "tests/e2e/test_kubectl_run_attached.py",
    "tests/e2e/test_horizontal_pod_autoscaler.py",
    "tests/e2e/test_metrics_api.py",
    "tests/e2e/test_pod_lifecycle.py",
    "tests/e2e/test_pod_flow.py",
    "tests/e2e/test_admission_webhook_example.py",
    "tests/e2e/test_conversion_webhook_example.py",
    "tests/e2e/test_kopf_admission.py",
)
INTEGRATION = (
    "tests/integration/bench/test_bench_smoke.py",
    "tests/integration/controller/test_horizontal_pod_autoscaler.py",
    "tests/integration/scheduler/test_scheduler_queue.py",
    "tests/integration/apiserver/test_fuzz_rest.py",
    "tests/integration/kubelet/test_port_forward_websockets.py",
    "tests/integration/scheduler/test_scheduler_replicas.py",
    "tests/integration/clients/test_kubectl_streaming.py",
    "tests/integration/clients/test_kubectl_drain.py",
)


def reorder(items: list[pytest.Item], first: Sequence[str]) -> None:
    """Moves the items of the modules in `first` to the front, in that order; the rest keep
    theirs (a stable sort, the same on every worker, as xdist requires)."""
    rank = {path: i for i, path in enumerate(first)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(first)))
