"""DaemonSets on a cluster of their own: real etcd, the real apiserver serving both doors,
`python -m controller` (the daemonset and garbage collector controllers) and `python -m
scheduler` as processes, hollow nodes (Node objects, Ready), and a task that plays their kubelets
(bound pods become Running and Ready, deleted ones go). One pod per node, bound by the scheduler
to the node its affinity names; a node added gets one; a template change rolls node by node
without ever leaving more than maxUnavailable nodes unserved; `kubectl rollout
status|history|undo|restart` and `podctl rollout` work; deleting the DaemonSet deletes its pods
and revisions."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import yaml

from podctl.__main__ import run as podctl_run
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import timeutil
from podplane.client.clientset import Client
from podplane.client.informer import Informer
from tests.integration.control_plane import etcd_process
from tests.integration.rest_cluster import RestCluster, grpc_client, rest_cluster
from tests.integration.scheduler_support import register_node
from tests.support import eventually, free_port, new_namespace

ROOT = Path(__file__).resolve().parents[3]
NODES = ("node-a", "node-b", "node-c")


def component(module: str, cluster: RestCluster, user: str, *extra: str) -> subprocess.Popen[bytes]:
    """`python -m <module>` against the cluster's gRPC door with `user`'s certificate; its log
    in the cluster's folder (<module>.log)."""
    pki = cluster.pki
    log = (cluster.folder / f"{module}.log").open("wb")
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            module,
            "--server",
            f"127.0.0.1:{cluster.server.port}",
            "--ca-file",
            str(pki / "ca.crt"),
            "--cert-file",
            str(pki / f"{user}.crt"),
            "--key-file",
            str(pki / f"{user}.key"),
            "--health-port",
            str(free_port()),
            "--metrics-bind-address",
            "",
            "--leader-elect=false",
            *extra,
        ],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


@contextlib.contextmanager
def processes(*procs: subprocess.Popen[bytes]) -> Iterator[None]:
    try:
        yield
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


async def play_kubelets(client: Client) -> None:
    """Every bound pod becomes Running and Ready; a deleted one is gone at once. The pods come
    from an informer (podplane.client.informer: list, watch, resume or relist), as a kubelet's
    do: a single watch read once ends for good when the apiserver closes it (it closes the watch
    of a reader that falls behind), and under load that left every later pod Pending."""
    informer: Informer[core_pb2.Pod] = Informer(client.pods)
    pods: asyncio.Queue[core_pb2.Pod] = asyncio.Queue()
    informer.add_handler(on_add=pods.put_nowait, on_update=lambda _, pod: pods.put_nowait(pod))
    informing = asyncio.create_task(informer.run())
    try:
        while True:
            await play_kubelet(client, await pods.get())
    finally:
        informing.cancel()
        await asyncio.gather(informing, return_exceptions=True)


async def play_kubelet(client: Client, pod: core_pb2.Pod) -> None:
    try:
        if pod.metadata.deletion_timestamp:
            await client.pods.delete(
                pod.metadata.name, pod.metadata.namespace, grace_period_seconds=0
            )
        elif pod.spec.node_name and pod.status.phase in ("", "Pending"):
            started = core_pb2.Pod()
            started.CopyFrom(pod)
            started.status.phase = "Running"
            started.status.conditions.add(
                type="Ready", status="True", last_transition_time=timeutil.now()
            )
            await client.pods.update_status(started)
    except Exception:  # noqa: BLE001 - raced with a deletion or another write
        pass


@dataclass
class Cluster:
    rest: RestCluster
    client: Client
    nodes: list[str] = field(default_factory=lambda: list(NODES))

    async def kubectl(self, *args: str, stdin: str | None = None) -> str:
        return await self.rest.kubectl_ok(*args, stdin=stdin)


@pytest_asyncio.fixture(scope="module")
async def c(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Cluster]:
    with etcd_process() as etcd:
        async with rest_cluster(etcd, tmp_path_factory.mktemp("daemonsets")) as rest:
            client = rest.grpc
            for name in NODES:
                await register_node(client, name, cpu="4")
            kubelets = asyncio.create_task(play_kubelets(client))
            controllers = component(
                "controller",
                rest,
                "controller-manager",
                "--controllers",
                "daemonset,garbagecollector",
            )
            scheduler = component("scheduler", rest, "scheduler")
            with processes(controllers, scheduler):
                try:
                    yield Cluster(rest, client)
                finally:
                    kubelets.cancel()
                    await asyncio.gather(kubelets, return_exceptions=True)


def manifest(name: str, image: str, **spec: Any) -> str:
    return yaml.safe_dump(
        {
            "apiVersion": "apps/v1",
            "kind": "DaemonSet",
            "metadata": {"name": name},
            "spec": {
                "selector": {"matchLabels": {"app": name}},
                "template": {
                    "metadata": {"labels": {"app": name}},
                    "spec": {
                        "terminationGracePeriodSeconds": 0,
                        "containers": [{"name": "main", "image": image}],
                    },
                },
                **spec,
            },
        }
    )


async def pods_of(client: Client, ns: str) -> list[core_pb2.Pod]:
    pods, _ = await client.pods.list_all(ns)
    return [p for p in pods if not p.metadata.deletion_timestamp]


def ready(pod: core_pb2.Pod) -> bool:
    return any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions)


async def one_ready_pod_per_node(
    c: Cluster, ns: str, image: str, timeout: float = 60
) -> list[core_pb2.Pod]:
    async def check() -> list[core_pb2.Pod] | None:
        pods = await pods_of(c.client, ns)
        ok = sorted(p.spec.node_name for p in pods) == sorted(c.nodes) and all(
            ready(p) and p.spec.containers[0].image == image for p in pods
        )
        return pods if ok else None

    return await eventually(check, timeout, what=f"one ready {image} pod per node in {ns}")


async def test_one_pod_per_node_bound_by_the_scheduler_and_one_for_a_new_node(c: Cluster) -> None:
    ns = await new_namespace(c.client, "ds-")
    await c.kubectl("apply", "-n", ns, "-f", "-", stdin=manifest("agent", "busybox:1"))
    pods = await one_ready_pod_per_node(c, ns, "busybox:1")
    for pod in pods:
        terms = pod.spec.affinity.node_affinity.required_during_scheduling_ignored_during_execution
        field_ = terms.node_selector_terms[0].match_fields[0]
        assert (field_.key, list(field_.values)) == ("metadata.name", [pod.spec.node_name])
    table = (await c.kubectl("get", "ds", "agent", "-n", ns)).splitlines()
    assert table[0].split() == [
        "NAME",
        "DESIRED",
        "CURRENT",
        "READY",
        "UP-TO-DATE",
        "AVAILABLE",
        "NODE",
        "SELECTOR",
        "AGE",
    ]
    assert table[1].split()[:7] == ["agent", "3", "3", "3", "3", "3", "<none>"]
    await register_node(c.client, "node-d", cpu="4")
    c.nodes.append("node-d")
    await one_ready_pod_per_node(c, ns, "busybox:1")


@dataclass
class ServingWatch:
    """The fewest nodes with a ready pod of the DaemonSet a watch saw while armed."""

    pods: dict[str, core_pb2.Pod] = field(default_factory=dict)
    fewest: int | None = None

    def serving(self) -> set[str]:
        """The nodes with a ready pod, as the watch has seen them so far."""
        return {
            p.spec.node_name
            for p in self.pods.values()
            if ready(p) and not p.metadata.deletion_timestamp
        }

    def saw(self, type_: str, pod: core_pb2.Pod) -> None:
        if type_ == "DELETED":
            self.pods.pop(pod.metadata.name, None)
        else:
            self.pods[pod.metadata.name] = pod
        serving = len(self.serving())
        self.fewest = serving if self.fewest is None else min(self.fewest, serving)


async def watch_serving(client: Client, ns: str, watch: ServingWatch) -> None:
    async for event in client.pods.watch(ns):
        watch.saw(event.type, event.object)


async def test_a_template_change_rolls_node_by_node_and_kubectl_rollout_works(c: Cluster) -> None:
    ns = await new_namespace(c.client, "ds-")
    await c.kubectl("apply", "-n", ns, "-f", "-", stdin=manifest("agent", "busybox:1"))
    await one_ready_pod_per_node(c, ns, "busybox:1")
    watch = ServingWatch()
    watching = asyncio.create_task(watch_serving(c.client, ns, watch))
    try:

        async def watch_has_them() -> bool:
            return len(watch.serving()) == len(c.nodes)

        # Armed once the watch has delivered the pods already serving on every node.
        await eventually(watch_has_them, what="the watch to see a ready pod on every node")
        watch.fewest = None
        await c.kubectl("set", "image", "ds/agent", "main=busybox:2", "-n", ns)
        status = await c.rest.kubectl(
            "rollout", "status", "daemonset/agent", "-n", ns, "--timeout=90s", timeout=120
        )
        assert status.code == 0, status.err
        assert status.lines()[-1] == 'daemon set "agent" successfully rolled out'
        await one_ready_pod_per_node(c, ns, "busybox:2")
    finally:
        watching.cancel()
        await asyncio.gather(watching, return_exceptions=True)
    assert watch.fewest == len(c.nodes) - 1  # maxUnavailable 1: one node at a time

    history = await c.kubectl("rollout", "history", "daemonset/agent", "-n", ns)
    assert history.splitlines() == [
        "daemonset.apps/agent ",
        "REVISION  CHANGE-CAUSE",
        "1         <none>",
        "2         <none>",
        "",
    ]
    first = await c.kubectl("rollout", "history", "daemonset/agent", "-n", ns, "--revision=1")
    assert first.splitlines()[0] == "daemonset.apps/agent with revision #1"
    assert any(line.split() == ["Image:", "busybox:1"] for line in first.splitlines())

    undone = await c.kubectl("rollout", "undo", "daemonset/agent", "-n", ns)
    assert undone == "daemonset.apps/agent rolled back\n"
    await one_ready_pod_per_node(c, ns, "busybox:1")
    revisions = json.loads(await c.kubectl("get", "controllerrevisions", "-n", ns, "-o", "json"))
    numbers = sorted(r["revision"] for r in revisions["items"])
    assert numbers == [2, 3]  # revision 1's template is revision 3 now
    # Undoing to the current revision changes nothing. (kubectl 1.31 and 1.32 say "skipped
    # rollback": their patch of the DaemonSet is the revision's data, byte for byte; 1.33's and
    # later ones drop the template's `creationTimestamp: null` from theirs, so they patch, as
    # they do against Kubernetes 1.31 itself.)
    generation = (await c.client.daemonsets.get("agent", ns)).metadata.generation
    await c.kubectl("rollout", "undo", "daemonset/agent", "-n", ns, "--to-revision=3")
    assert (await c.client.daemonsets.get("agent", ns)).metadata.generation == generation

    restarted = await c.kubectl("rollout", "restart", "daemonset/agent", "-n", ns)
    assert restarted == "daemonset.apps/agent restarted\n"

    async def restarted_everywhere() -> bool:
        """Every pod restarted and Ready, and the DaemonSet's status says so (what `rollout
        status` reads: its controller records the pods' readiness after they have it)."""
        pods = await pods_of(c.client, ns)
        ds = await c.client.daemonsets.get("agent", ns)
        status = ds.status
        return (
            len(pods) == len(c.nodes)
            and all(
                "kubectl.kubernetes.io/restartedAt" in p.metadata.annotations and ready(p)
                for p in pods
            )
            and status.observed_generation >= ds.metadata.generation
            and status.updated_number_scheduled == status.desired_number_scheduled == len(c.nodes)
            and status.number_available == len(c.nodes)
        )

    await eventually(restarted_everywhere, 90, what="every pod restarted, and the status saying so")

    # podctl, over gRPC, sees the same rollout.
    out = await podctl(c, "rollout", "history", "ds/agent", "-n", ns)
    assert out.splitlines()[1:] == [
        "REVISION  CHANGE-CAUSE",
        "2         <none>",
        "3         <none>",
        "4         <none>",
        "",
    ]
    assert (await podctl(c, "rollout", "status", "ds/agent", "-n", ns)).strip() == (
        'daemon set "agent" successfully rolled out'
    )


async def podctl(c: Cluster, *argv: str) -> str:
    """podctl in a thread (it runs its own event loop), connected with the admin's certificate;
    what it printed."""

    @contextlib.asynccontextmanager
    async def connect(_: str) -> AsyncIterator[Client]:
        client = grpc_client(c.rest.server, c.rest.pki)
        try:
            yield client
        finally:
            await client.close()

    def run() -> tuple[int, str]:
        import io
        from contextlib import redirect_stdout

        buffer = io.StringIO()
        with redirect_stdout(buffer):
            code = podctl_run(list(argv), connect)
        return code, buffer.getvalue()

    code, out = await asyncio.to_thread(run)
    assert code == 0, out
    return out


async def test_deleting_the_daemon_set_deletes_its_pods_and_revisions(c: Cluster) -> None:
    ns = await new_namespace(c.client, "ds-")
    await c.kubectl("apply", "-n", ns, "-f", "-", stdin=manifest("gone", "busybox:1"))
    await one_ready_pod_per_node(c, ns, "busybox:1")
    await c.kubectl("delete", "ds", "gone", "-n", ns)

    async def nothing_left() -> bool:
        pods, _ = await c.client.pods.list_all(ns)
        revisions, _ = await c.client.controllerrevisions.list_all(ns)
        return not pods and not revisions

    await eventually(nothing_left, 60, what="the pods and revisions to be collected")


async def test_bad_daemon_sets_are_refused_in_kubernetes_words(c: Cluster) -> None:
    ns = await new_namespace(c.client, "ds-")
    bad = manifest(
        "bad", "busybox:1", updateStrategy={"rollingUpdate": {"maxUnavailable": 1, "maxSurge": 1}}
    )
    ran = await c.rest.kubectl("apply", "-n", ns, "-f", "-", stdin=bad)
    assert ran.code == 1
    assert (
        'The DaemonSet "bad" is invalid: spec.updateStrategy.rollingUpdate.maxSurge: Invalid '
        "value: 1: may not be set when maxUnavailable is non-zero"
    ) in ran.err
