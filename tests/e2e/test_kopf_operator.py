"""A kopf operator (kopf 1.45, tests/e2e/operators/pod_annotator.py) run against the compose
cluster as its users run one: `kopf run --standalone -A --verbose` in its own process, with
KUBECONFIG. It finds the API through discovery, lists and watches pods in every namespace, writes
back with merge patches and posts Events. Each labelled pod is seen once, however many times it
changes while it starts and runs; a pod without the label is left alone."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator

import pytest

from tests.e2e.compose_cluster import ROOT
from tests.e2e.kubectl import KUBECONFIG, Kubectl, Lines
from tests.e2e.operators.pod_annotator import ANNOTATION, LABEL
from tests.e2e.waiting import eventually

OPERATOR = ROOT / "tests" / "e2e" / "operators" / "pod_annotator.py"
LABELLED = ("one", "two", "three")


@pytest.fixture(scope="module")
def k(kubectl_namespace: str) -> Kubectl:
    return Kubectl(kubectl_namespace)


@pytest.fixture(scope="module")
def operator() -> Iterator[Lines]:
    """The operator's process, its log and prints merged, once it watches pods."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "kopf", "run", "--standalone", "-A", "--verbose", str(OPERATOR)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "KUBECONFIG": str(KUBECONFIG), "PYTHONUNBUFFERED": "1"},
        cwd=ROOT,
    )
    lines = Lines(proc)
    try:
        lines.until(r"Starting the watch-stream for pods\.v1 cluster-wide\.", timeout=60)
        yield lines
    finally:
        lines.stop()


def test_each_labelled_pod_is_annotated_once(
    k: Kubectl, operator: Lines, kubectl_namespace: str
) -> None:
    for name in (*LABELLED, "unlabelled"):
        labels = [f"--labels={LABEL}=watch"] if name in LABELLED else []
        created = k.run("run", name, "--image=busybox", *labels, "--", "sleep", "3600")
        assert created.out == f"pod/{name} created\n", created
    annotation = ANNOTATION.replace(".", "\\.")
    for name in LABELLED:
        annotated = k.run(
            "wait", f"--for=jsonpath={{.metadata.annotations.{annotation}}}=kopf", f"pod/{name}"
        )
        assert annotated.out == f"pod/{name} condition met\n", annotated
    # The pods start and run meanwhile, and one is relabelled: more events, no more handling.
    k.ok("wait", "--for=condition=Ready", "pod", "--all", "--timeout=90s")
    assert k.ok("label", "pod", "one", "extra=1") == "pod/one labeled\n"

    # kopf posts its events from a queue of its own (kopf.info queues them), apart from the
    # handler's patch whose annotation was waited for: an event may come after it.
    def seen_events() -> str:
        events = k.ok(
            "get",
            "events",
            "--field-selector=reason=Seen",
            "-o",
            "custom-columns=OBJECT:.involvedObject.name,FROM:.source.component,MESSAGE:.message",
            "--no-headers",
        )
        assert sorted(tuple(line.split(maxsplit=2)) for line in events.splitlines()) == sorted(
            (name, "kopf", f"{ANNOTATION} written by the e2e operator") for name in LABELLED
        ), events
        return events

    eventually(seen_events, 30, "the operator's Seen events")
    untouched = k.ok("get", "pod", "unlabelled", "-o", "jsonpath={.metadata.annotations}")
    assert ANNOTATION not in untouched

    log = operator.stop()
    seen = Counter(line for line in log if line.startswith("seen "))
    assert seen == Counter(f"seen {kubectl_namespace}/{name}" for name in LABELLED), log
    assert not [line for line in log if "[ERROR" in line or "Traceback" in line], log
