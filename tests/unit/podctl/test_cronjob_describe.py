"""`describe cronjob`: kubectl's describeCronJob layout."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from podctl.describe.cronjob import describe_cron_job
from podplane.api.batch.v1 import batch_pb2
from podplane.api.core.v1 import core_pb2
from tests.unit.podctl.fakes import obj

NOW = datetime(2026, 11, 21, 15, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def utc_local_time(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_cron_job() -> None:
    cj = obj(
        batch_pb2.CronJob,
        {
            "metadata": {"name": "hello", "namespace": "shop"},
            "spec": {
                "schedule": "*/1 * * * *",
                "concurrencyPolicy": "Allow",
                "suspend": False,
                "successfulJobsHistoryLimit": 3,
                "failedJobsHistoryLimit": 1,
                "jobTemplate": {
                    "spec": {
                        "template": {
                            "spec": {
                                "containers": [
                                    {"name": "hello", "image": "busybox", "command": ["echo", "hi"]}
                                ],
                                "restartPolicy": "OnFailure",
                            }
                        }
                    }
                },
            },
            "status": {
                "lastScheduleTime": "2026-11-21T15:09:00Z",
                "active": [{"kind": "Job", "name": "hello-29396709", "namespace": "shop"}],
            },
        },
    )
    event = obj(
        core_pb2.Event,
        {
            "metadata": {"name": "e1", "namespace": "shop"},
            "involvedObject": {"kind": "CronJob", "name": "hello"},
            "type": "Normal",
            "reason": "SuccessfulCreate",
            "message": "Created job hello-29396709",
            "source": {"component": "cronjob-controller"},
            "count": 1,
            "firstTimestamp": "2026-11-21T15:09:00Z",
            "lastTimestamp": "2026-11-21T15:09:00Z",
        },
    )
    text = describe_cron_job(cj, [event], NOW)
    lines = text.splitlines()
    assert lines[:13] == [
        "Name:                          hello",
        "Namespace:                     shop",
        "Labels:                        <none>",
        "Annotations:                   <none>",
        "Schedule:                      */1 * * * *",
        "Concurrency Policy:            Allow",
        "Suspend:                       False",
        "Successful Job History Limit:  3",
        "Failed Job History Limit:      1",
        "Starting Deadline Seconds:     <unset>",
        "Selector:                      <unset>",
        "Parallelism:                   <unset>",
        "Completions:                   <unset>",
    ]
    assert lines[13] == "Pod Template:"
    assert "Last Schedule Time:  Sat, 21 Nov 2026 15:09:00 +0000" in lines
    assert "Active Jobs:         hello-29396709" in lines
    assert any(
        line.split()
        == [
            "Normal",
            "SuccessfulCreate",
            "60s",
            "cronjob-controller",
            "Created",
            "job",
            "hello-29396709",
        ]
        for line in lines
    ), text
