"""Sidecars (init containers with restartPolicy Always, KEP-753) on the compose cluster, as a user
sees them: a log shipper reads what the app writes to a shared emptyDir and `podctl get` counts it
in READY; a Job whose pod has a sidecar completes, the sidecar stopped; a sidecar that crashes is
restarted while the app keeps running. Each test stays under about a minute."""

from __future__ import annotations

from typing import Any

from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import manifest
from podplane.client.clientset import Client
from tests.e2e.compose_cluster import podctl
from tests.support import eventually

BUSYBOX = {"image": "busybox", "imagePullPolicy": "IfNotPresent"}
LOGS = [{"name": "logs", "mountPath": "/var/log/app"}]
SHIPPER = {
    "name": "shipper",
    **BUSYBOX,
    "restartPolicy": "Always",
    "volumeMounts": LOGS,
    "command": ["sh", "-c", "touch /var/log/app/app.log; exec tail -n +1 -F /var/log/app/app.log"],
}


def status_of(pod: Any, name: str) -> Any:
    statuses = (*pod.status.init_container_statuses, *pod.status.container_statuses)
    return next((s for s in statuses if s.name == name), None)


def condition(pod: Any, kind: str) -> str:
    return next((c.status for c in pod.status.conditions if c.type == kind), "")


async def create_pod(client: Client, namespace: str, name: str, spec: dict[str, Any]) -> Any:
    pod = manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace},
            "spec": spec,
        }
    )
    assert isinstance(pod, core_pb2.Pod)
    return await client.pods.create(pod)


async def wait_for(
    client: Client, namespace: str, name: str, test: Any, what: str, timeout: float = 60
) -> Any:
    async def check() -> Any:
        pod = await client.pods.get(name, namespace)
        return pod if test(pod) else None

    return await eventually(check, timeout, interval=0.5, what=f"pod {name}: {what}")


async def test_a_log_shipper_sidecar_reads_what_the_app_writes(
    client: Client, namespace: str
) -> None:
    await create_pod(
        client,
        namespace,
        "shipped",
        {
            "volumes": [{"name": "logs", "emptyDir": {}}],
            "initContainers": [SHIPPER],
            "containers": [
                {
                    "name": "app",
                    **BUSYBOX,
                    "volumeMounts": LOGS,
                    "command": [
                        "sh",
                        "-c",
                        "i=0; while true; do i=$((i+1)); echo request $i >> /var/log/app/app.log;"
                        " sleep 0.5; done",
                    ],
                }
            ],
        },
    )
    pod = await wait_for(
        client, namespace, "shipped", lambda p: condition(p, "Ready") == "True", "ready"
    )
    shipper = status_of(pod, "shipper")
    assert shipper.started and shipper.ready and shipper.state.HasField("running")
    assert status_of(pod, "shipper").state.running.started_at <= (
        status_of(pod, "app").state.running.started_at
    )

    async def shipped() -> str | None:
        out = podctl("logs", "shipped", "-c", "shipper", "-n", namespace).stdout
        return out if "request 3\n" in out else None

    out = await eventually(shipped, 30, what="the shipper to print the app's lines")
    assert out.startswith("request 1\nrequest 2\nrequest 3\n")
    row = podctl("get", "pod", "shipped", "-n", namespace, "--no-headers").stdout.split()
    assert row[1:3] == ["2/2", "Running"]


JOB = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: with-sidecar
spec:
  template:
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 10
      volumes: [{name: logs, emptyDir: {}}]
      initContainers:
        - name: shipper
          image: busybox
          imagePullPolicy: IfNotPresent
          restartPolicy: Always
          volumeMounts: [{name: logs, mountPath: /var/log/app}]
          # As PID 1 a plain tail would ignore SIGTERM and wait out the grace period.
          command:
            - sh
            - -c
            - trap 'exit 0' TERM; touch /var/log/app/app.log; tail -F /var/log/app/app.log & wait
      containers:
        - name: work
          image: busybox
          imagePullPolicy: IfNotPresent
          volumeMounts: [{name: logs, mountPath: /var/log/app}]
          command: ["sh", "-c", "echo working >> /var/log/app/app.log; sleep 2; echo done"]
"""


async def test_a_job_with_a_sidecar_completes_with_the_sidecar_stopped(
    client: Client, namespace: str
) -> None:
    podctl("apply", "-n", namespace, "-f", "-", stdin=JOB)

    async def complete() -> Any:
        job = await client.jobs.get("with-sidecar", namespace)
        done = any(c.type == "Complete" and c.status == "True" for c in job.status.conditions)
        return job if done else None

    job = await eventually(complete, 120, interval=1, what="the Job to complete")
    assert job.status.succeeded == 1 and job.status.failed == 0

    async def finished_pod() -> Any:
        pods = (await client.pods.list(namespace, label_selector="job-name=with-sidecar")).items
        return pods[0] if len(pods) == 1 and pods[0].status.phase == "Succeeded" else None

    pod = await eventually(finished_pod, 30, what="the Job's pod to have succeeded")
    work = status_of(pod, "work").state.terminated
    assert (work.exit_code, work.reason) == (0, "Completed")
    shipper = status_of(pod, "shipper")
    assert shipper.state.HasField("terminated") and shipper.restart_count == 0
    assert shipper.state.terminated.finished_at >= work.finished_at  # stopped after the app
    assert podctl("logs", "job/with-sidecar", "-n", namespace).stdout == "done\n"
    table = podctl("get", "pods", "-n", namespace, "--no-headers").stdout.split()
    assert table[1:3] == ["0/2", "Completed"]


async def test_a_crashing_sidecar_is_restarted_while_the_app_keeps_running(
    client: Client, namespace: str
) -> None:
    await create_pod(
        client,
        namespace,
        "flaky-sidecar",
        {
            "restartPolicy": "Never",
            "initContainers": [
                {
                    "name": "proxy",
                    **BUSYBOX,
                    "restartPolicy": "Always",
                    "command": ["sh", "-c", "sleep 2; exit 3"],
                }
            ],
            "containers": [{"name": "app", **BUSYBOX, "command": ["sleep", "3600"]}],
        },
    )
    pod = await wait_for(
        client,
        namespace,
        "flaky-sidecar",
        lambda p: status_of(p, "app") is not None and status_of(p, "app").state.HasField("running"),
        "the app running",
    )
    app_id = status_of(pod, "app").container_id

    def restarted(p: Any) -> bool:
        proxy = status_of(p, "proxy")
        return bool(proxy.restart_count >= 2 and proxy.last_state.terminated.exit_code == 3)

    pod = await wait_for(client, namespace, "flaky-sidecar", restarted, "two sidecar restarts")
    app = status_of(pod, "app")
    assert app.container_id == app_id and app.restart_count == 0
    assert app.state.HasField("running") and pod.status.phase == "Running"
