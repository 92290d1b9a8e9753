"""The conversion webhook example (examples/conversion-webhook) deployed as its README says, on
the compose cluster: a user's ConversionReview server in a pod, reached by the apiserver at its
pod address, converting the CronTabs of a CustomResourceDefinition whose versions differ (v1
keeps spec.cronSpec and is stored, v2 keeps spec.schedule). A CronTab created at v2 reads at
either version with its own field, kubectl's preferred version is v2, kubectl explain shows each
version's schema, and the webhook logged the reviews it answered."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.e2e.examples import deploy
from tests.e2e.kubectl import Kubectl
from tests.e2e.waiting import eventually

CRD = "crd/crontabs.convert.example.com"


@pytest.fixture(scope="module")
def deployed() -> Iterator[None]:
    """deploy.sh, with the project's kubectl first on PATH; the definition (its CronTabs first,
    while the webhook converts) and the webhook's namespace go with the module."""
    deploy("conversion-webhook")
    k = Kubectl()
    try:
        k.ok("wait", "--for=condition=established", CRD, "--timeout=60s")
        yield
    finally:
        k.run("delete", "crontabs.convert.example.com", "--all", "--all-namespaces")
        k.run("delete", CRD, "--timeout=120s")
        k.run("delete", "namespace", "conversion-example", "--wait=false")


def test_a_crontab_created_at_v2_reads_at_either_version(
    deployed: None, kubectl_namespace: str
) -> None:
    k = Kubectl(kubectl_namespace)
    body = {
        "apiVersion": "convert.example.com/v2",
        "kind": "CronTab",
        "metadata": {"name": "nightly"},
        "spec": {"schedule": "0 3 * * *", "image": "backup"},
    }
    # Stored at v1, so the create itself is converted: the apiserver calls the webhook at an
    # endpoint of its Service's EndpointSlices, which reach its cache on their own path, after
    # the readiness deploy.sh's `rollout status` waited for. A create refused meanwhile made
    # nothing.
    created = eventually(
        lambda: k.ok("create", "-f", "-", stdin=json.dumps(body)),
        60,
        "the conversion webhook converting a create",
    )
    assert created == "crontab.convert.example.com/nightly created\n"
    at_v1 = json.loads(k.ok("get", "crontabs.v1.convert.example.com", "nightly", "-o", "json"))
    assert (at_v1["apiVersion"], at_v1["spec"]) == (
        "convert.example.com/v1",
        {"cronSpec": "0 3 * * *", "image": "backup"},
    )
    at_v2 = json.loads(k.ok("get", "crontabs.v2.convert.example.com", "nightly", "-o", "json"))
    assert (at_v2["apiVersion"], at_v2["spec"]) == (
        "convert.example.com/v2",
        {"schedule": "0 3 * * *", "image": "backup"},
    )
    assert at_v1["metadata"]["uid"] == at_v2["metadata"]["uid"]
    # kubectl's preferred version is the highest: v2, its short name included.
    preferred = json.loads(k.ok("get", "cvt", "nightly", "-o", "json"))
    assert preferred["apiVersion"] == "convert.example.com/v2"
    # A merge patch at v1 changes v1's field; v2 reads the change in its own.
    k.ok(
        "patch", "crontabs.v1.convert.example.com", "nightly", "--type=merge",
        "-p", '{"spec": {"cronSpec": "0 4 * * *"}}',
    )  # fmt: skip
    at_v2 = json.loads(k.ok("get", "crontabs.v2.convert.example.com", "nightly", "-o", "json"))
    assert at_v2["spec"] == {"schedule": "0 4 * * *", "image": "backup"}

    explained = k.ok("explain", "crontab.spec", "--api-version=convert.example.com/v2")
    assert "schedule\t<string>" in explained and "cronSpec" not in explained, explained
    explained = k.ok("explain", "crontab.spec", "--api-version=convert.example.com/v1")
    assert "cronSpec\t<string>" in explained and "schedule" not in explained, explained

    logs = Kubectl("conversion-example").ok("logs", "deployment/converter")
    reviews = [json.loads(line) for line in logs.splitlines() if line.startswith("{")]
    assert {"to": "convert.example.com/v1", "objects": 1} in reviews, logs
    assert {"to": "convert.example.com/v2", "objects": 1} in reviews, logs
