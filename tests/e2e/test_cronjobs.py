"""CronJobs on the compose cluster with the real kubectl: `kubectl create cronjob` every minute,
the controller-manager's CronJob controller makes a Job at each minute whose pod runs and
completes, the successful history limit of 1 leaves one Job, and `kubectl create job
--from=cronjob/...` runs the template at once. About three minutes of schedule time."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.e2e.kubectl import Kubectl
from tests.e2e.waiting import eventually


@pytest.fixture(scope="module")
def k(kubectl_namespace: str) -> Kubectl:
    return Kubectl(kubectl_namespace)


@pytest.fixture(scope="module")
def hello(k: Kubectl) -> dict[str, Any]:
    """The CronJob, created as kubectl creates it, its history limited to one successful Job."""
    created = k.ok(
        "create",
        "cronjob",
        "hello",
        "--image=busybox",
        "--schedule=*/1 * * * *",
        "--",
        "echo",
        "hi",
    )
    assert created == "cronjob.batch/hello created\n"
    patched = k.ok("patch", "cronjob", "hello", "-p", '{"spec":{"successfulJobsHistoryLimit":1}}')
    assert patched == "cronjob.batch/hello patched\n"
    cron_job: dict[str, Any] = json.loads(k.ok("get", "cronjob", "hello", "-o", "json"))
    return cron_job


def jobs_of(k: Kubectl, owner_uid: str) -> list[dict[str, Any]]:
    items = json.loads(k.ok("get", "jobs", "-o", "json"))["items"]
    return [
        j
        for j in items
        if any(r["uid"] == owner_uid for r in j["metadata"].get("ownerReferences", []))
    ]


def complete(job: dict[str, Any]) -> bool:
    return any(
        c["type"] == "Complete" and c["status"] == "True"
        for c in job.get("status", {}).get("conditions", [])
    )


def test_a_job_from_the_cron_job_runs_at_once(k: Kubectl) -> None:
    # A suspended CronJob of its own: the Job it is made from is the CronJob's (its owner), so a
    # scheduled Job completing after it would make it the oldest of the successful history,
    # which the controller trims (hello keeps one), as Kubernetes' does.
    k.ok(
        "create", "cronjob", "held", "--image=busybox", "--schedule=*/1 * * * *", "--", "echo", "hi"
    )
    k.ok("patch", "cronjob", "held", "-p", '{"spec":{"suspend":true}}')
    held = json.loads(k.ok("get", "cronjob", "held", "-o", "json"))
    assert k.ok("create", "job", "manual", "--from=cronjob/held") == "job.batch/manual created\n"
    done = k.run("wait", "--for=condition=complete", "job/manual", "--timeout=90s")
    assert done.code == 0, done
    assert k.ok("logs", "job/manual") == "hi\n"
    manual = json.loads(k.ok("get", "job", "manual", "-o", "json"))
    assert manual["metadata"]["annotations"]["cronjob.kubernetes.io/instantiate"] == "manual"
    assert manual["metadata"]["ownerReferences"][0]["uid"] == held["metadata"]["uid"]
    k.ok("delete", "cronjob", "held")


def test_every_minute_a_job_runs_and_one_successful_job_is_kept(
    k: Kubectl, hello: dict[str, Any]
) -> None:
    uid = hello["metadata"]["uid"]
    completed: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + 200
    # Two scheduled Jobs complete (the second within a minute of the first); meanwhile the
    # history never keeps more than one completed Job for long.
    while len(completed) < 2 and time.monotonic() < deadline:
        for job in jobs_of(k, uid):
            if complete(job) and job["metadata"]["name"] != "manual":
                completed.setdefault(job["metadata"]["name"], job)
        time.sleep(2)
    assert len(completed) >= 2, f"completed jobs: {sorted(completed)}"
    names = sorted(completed)
    for name, job in completed.items():
        minutes = int(name.removeprefix("hello-"))
        stamp = job["metadata"]["annotations"]["batch.kubernetes.io/cronjob-scheduled-timestamp"]
        assert stamp == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(minutes * 60))
        assert job["status"]["succeeded"] == 1
    assert int(names[1].removeprefix("hello-")) > int(names[0].removeprefix("hello-"))
    assert k.ok("logs", f"job/{names[1]}") == "hi\n"

    # successfulJobsHistoryLimit 1: the older one goes.
    while time.monotonic() < deadline + 30:
        kept = [j["metadata"]["name"] for j in jobs_of(k, uid) if complete(j)]
        if names[0] not in kept:
            break
        time.sleep(1)
    kept = [j["metadata"]["name"] for j in jobs_of(k, uid) if complete(j)]
    assert names[0] not in kept and len(kept) == 1, kept

    cron_job = json.loads(k.ok("get", "cronjob", "hello", "-o", "json"))
    assert cron_job["status"]["lastScheduleTime"] and cron_job["status"]["lastSuccessfulTime"]
    table = k.ok("get", "cronjob", "hello").splitlines()
    assert table[0].split() == [
        "NAME",
        "SCHEDULE",
        "TIMEZONE",
        "SUSPEND",
        "ACTIVE",
        "LAST",
        "SCHEDULE",
        "AGE",
    ]
    assert table[1].split()[:7] == ["hello", "*/1", "*", "*", "*", "*", "<none>"]
    reasons = ("SuccessfulCreate", "SawCompletedJob", "SuccessfulDelete")

    # The controller records its event after the deletion it reports, the Job seen gone first.
    def recorded() -> str | None:
        events = k.ok("get", "events", "--field-selector", "involvedObject.name=hello")
        return events if all(reason in events for reason in reasons) else None

    events = eventually(recorded, timeout=30, what="the CronJob's events", interval=0.2)
    for reason in reasons:
        assert reason in events, events
    k.ok("delete", "cronjob", "hello")
