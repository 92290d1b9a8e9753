"""CronJobs through the real apiserver over a real etcd: kubectl 1.36 creates one (a protobuf
body), prints the table and makes a Job from it (--from=cronjob/...); bad schedules and time
zones are 422s naming the field; the CronJob controller, in this process with its clock moved to
the next scheduled minute, creates the Job of each time, follows it to completion, keeps the
history limit, and the garbage collector deletes the Jobs with the CronJob."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import grpc
import pytest
import pytest_asyncio

from apiserver.endpoints.rest.protobuf_bodies import MEDIA_TYPE
from controller.cronjob.controller import CronJobController
from controller.garbagecollector.controller import GarbageCollector
from podplane.api.batch.v1 import batch_pb2
from podplane.apimachinery import manifest, timeutil
from podplane.client.clientset import Client, is_not_found
from podplane.client.informer_factory import SharedInformerFactory
from tests.integration.controller_support import running
from tests.integration.rest_cluster import RestCluster, rest_cluster
from tests.support import EtcdProcess, eventually, new_namespace


@pytest_asyncio.fixture(scope="module")
async def cluster(
    etcd: EtcdProcess, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RestCluster]:
    async with rest_cluster(etcd, tmp_path_factory.mktemp("cronjobs")) as c:
        yield c


async def get(cluster: RestCluster, *args: str) -> Any:
    return json.loads(await cluster.kubectl_ok("get", "-o", "json", *args))


async def test_kubectl_create_cronjob_get_and_create_job_from_it(cluster: RestCluster) -> None:
    ns = await new_namespace(cluster.grpc)
    ran = await cluster.kubectl(
        "-v=8",
        "create",
        "cronjob",
        "hello",
        "-n",
        ns,
        "--image=busybox",
        "--schedule=*/1 * * * *",
        "--",
        "echo",
        "hi",
    )
    assert ran.code == 0, ran.err[-3000:]
    assert ran.out == "cronjob.batch/hello created\n"
    assert f"Content-Type: {MEDIA_TYPE}" in ran.err  # kubectl sent protobuf
    cj = await get(cluster, "cronjob", "hello", "-n", ns)
    spec = cj["spec"]
    assert spec["schedule"] == "*/1 * * * *"
    assert (spec["concurrencyPolicy"], spec["suspend"]) == ("Allow", False)
    assert (spec["successfulJobsHistoryLimit"], spec["failedJobsHistoryLimit"]) == (3, 1)
    pod = spec["jobTemplate"]["spec"]["template"]["spec"]
    [container] = pod["containers"]
    assert (container["name"], container["image"], container["command"]) == (
        "hello",
        "busybox",
        ["echo", "hi"],
    )
    assert pod["restartPolicy"] == "OnFailure"
    assert cj["metadata"]["generation"] == 1

    table = (await cluster.kubectl_ok("get", "cronjobs", "-n", ns)).splitlines()
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
    assert table[1].split()[:9] == ["hello", "*/1", "*", "*", "*", "*", "<none>", "False", "0"]
    assert table[1].split()[9] == "<none>"  # never scheduled

    ran = await cluster.kubectl("-v=8", "create", "job", "test", "-n", ns, "--from=cronjob/hello")
    assert ran.code == 0, ran.err[-3000:]
    assert ran.out == "job.batch/test created\n"
    assert f"Content-Type: {MEDIA_TYPE}" in ran.err
    job = await get(cluster, "job", "test", "-n", ns)
    assert job["metadata"]["annotations"]["cronjob.kubernetes.io/instantiate"] == "manual"
    [ref] = job["metadata"]["ownerReferences"]
    assert ref == {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "name": "hello",
        "uid": cj["metadata"]["uid"],
        "controller": True,
    }
    [container] = job["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["echo", "hi"]
    assert job["spec"]["backoffLimit"] == 6  # a Job now: it gets a Job's defaults


@pytest.mark.parametrize(
    "args,message",
    [
        (
            ["--schedule=hello"],
            'error: failed to create cronjob: CronJob.batch "bad" is invalid: spec.schedule: '
            'Invalid value: "hello": expected exactly 5 fields, found 1: [hello]',
        ),
        (
            ["--schedule=TZ=UTC */5 * * * *"],
            'CronJob.batch "bad" is invalid: spec.schedule: Invalid value: '
            '"TZ=UTC */5 * * * *": cannot use TZ or CRON_TZ in schedule, use timeZone field '
            "instead",
        ),
        (
            ["--schedule=*/1 * * * *", "--restart=Always"],
            'CronJob.batch "bad" is invalid: spec.jobTemplate.spec.template.spec.restartPolicy: '
            'Unsupported value: "Always": supported values: "OnFailure", "Never"',
        ),
    ],
)
async def test_kubectl_create_cronjob_refused(
    cluster: RestCluster, args: list[str], message: str
) -> None:
    ns = await new_namespace(cluster.grpc)
    ran = await cluster.kubectl("create", "cronjob", "bad", "-n", ns, "--image=busybox", *args)
    assert ran.code == 1
    assert message in ran.err


async def test_an_unknown_time_zone_is_refused(cluster: RestCluster) -> None:
    ns = await new_namespace(cluster.grpc)
    manifest_text = f"""apiVersion: batch/v1
kind: CronJob
metadata: {{name: zoned, namespace: {ns}}}
spec:
  schedule: "0 9 * * *"
  timeZone: Mars/Olympus
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers: [{{name: c, image: busybox}}]
"""
    ran = await cluster.kubectl("apply", "-f", "-", stdin=manifest_text)
    assert ran.code == 1
    assert (
        'The CronJob "zoned" is invalid: spec.timeZone: Invalid value: "Mars/Olympus": unknown '
        "time zone Mars/Olympus"
    ) in ran.err
    good = manifest_text.replace("Mars/Olympus", "Europe/Paris")
    assert "cronjob.batch/zoned created" in await cluster.kubectl_ok("apply", "-f", "-", stdin=good)


def cron_job(ns: str, **spec: Any) -> batch_pb2.CronJob:
    obj: Any = manifest.from_dict(
        {
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "metadata": {"name": "every-minute", "namespace": ns},
            "spec": {
                "schedule": "*/1 * * * *",
                "jobTemplate": {
                    "spec": {
                        "template": {
                            "spec": {
                                "restartPolicy": "Never",
                                "containers": [{"name": "c", "image": "busybox"}],
                            }
                        }
                    }
                },
                **spec,
            },
        },
        batch_pb2.CronJob,
    )
    return obj  # type: ignore[no-any-return]


class ShiftedClock:
    """Real time moved forward, so a test need not wait for the minutes a schedule names."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def to(self, t: datetime) -> None:
        self.offset = t.timestamp() - time.time()


async def complete(client: Client, ns: str, name: str) -> None:
    """Plays the Job controller: the Job succeeds now."""
    job = await client.jobs.get(name, ns)
    now = timeutil.now()
    job.status.start_time = job.status.start_time or now
    job.status.succeeded = 1
    job.status.conditions.add(type="SuccessCriteriaMet", status="True", last_transition_time=now)
    job.status.conditions.add(type="Complete", status="True", last_transition_time=now)
    job.status.completion_time = now
    await client.jobs.update_status(job)


async def jobs_of(client: Client, ns: str) -> list[str]:
    return sorted(j.metadata.name for j in (await client.jobs.list(ns)).items)


async def test_the_controller_runs_each_time_keeps_the_history_and_the_gc_cleans_up(
    cluster: RestCluster,
) -> None:
    client = cluster.grpc
    ns = await new_namespace(client)
    created = await client.cronjobs.create(cron_job(ns, successfulJobsHistoryLimit=1))
    start = timeutil.parse(created.metadata.creation_timestamp)
    assert start is not None
    first_minute = (int(start.timestamp()) // 60 + 1) * 60
    clock = ShiftedClock()
    informers = SharedInformerFactory(client)
    controller = CronJobController(client, informers, clock=clock)
    gc = GarbageCollector(client, informers)
    key = f"{ns}/every-minute"
    names = []
    async with running(controller, gc):
        for i in range(3):
            scheduled = first_minute + 60 * i
            clock.to(datetime.fromtimestamp(scheduled + 1, UTC))
            controller.loop.enqueue(key)
            name = f"every-minute-{scheduled // 60}"
            names.append(name)

            async def made(name: str = name) -> batch_pb2.CronJob | None:
                cj = await client.cronjobs.get("every-minute", ns)
                return cj if [a.name for a in cj.status.active] == [name] else None

            cj = await eventually(made, timeout=15, what=f"{name} in the active list")
            assert cj.status.last_schedule_time == timeutil.format_time(
                datetime.fromtimestamp(scheduled, UTC)
            )
            job = await client.jobs.get(name, ns)
            stamp = job.metadata.annotations["batch.kubernetes.io/cronjob-scheduled-timestamp"]
            assert stamp == timeutil.format_time(datetime.fromtimestamp(scheduled, UTC))
            await complete(client, ns, name)

            async def seen_complete() -> batch_pb2.CronJob | None:
                cj = await client.cronjobs.get("every-minute", ns)
                return cj if not cj.status.active and cj.status.last_successful_time else None

            await eventually(seen_complete, timeout=15, what=f"{name} seen completed")

        # The history keeps the one most recent successful Job.
        async def trimmed() -> bool:
            return await jobs_of(client, ns) == [names[-1]]

        await eventually(trimmed, timeout=15, what="the history trimmed to one job")
        await controller.recorder.flush()
        events = (
            await client.events.list(ns, field_selector="involvedObject.name=every-minute")
        ).items
        reasons = {e.reason for e in events}
        assert {"SuccessfulCreate", "SawCompletedJob", "SuccessfulDelete"} <= reasons
        assert all(e.source.component == "cronjob-controller" for e in events)

        # Deleting the CronJob deletes its Jobs.
        await client.cronjobs.delete("every-minute", ns)

        async def jobs_gone() -> bool:
            return await jobs_of(client, ns) == []

        await eventually(jobs_gone, timeout=15, what="the garbage collector to delete the job")
    with pytest.raises(grpc.aio.AioRpcError) as gone:
        await client.cronjobs.get("every-minute", ns)
    assert is_not_found(gone.value)
