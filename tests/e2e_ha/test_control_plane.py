"""The highly available, self-hosted control plane (docker-compose.ha.yml): what `kubectl` shows
of it, its etcd cluster, and the faults it is built for. Each fault test leaves the three
machines whole again (it waits for that before it ends), so the tests may run in any order.

Run with `make up-ha test-e2e-ha`."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from apiserver.controlplane.identity import apiserver_id
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import manifest
from podplane.client.clientset import Client
from tests.e2e.faults import (
    PodChurn,
    assert_acknowledged_writes_stored,
    record,
    stop_task,
)
from tests.e2e.watch_checker import WatchChecker
from tests.e2e_ha.ha_cluster import (
    COMPONENTS,
    MANIFESTS,
    MEMBERS,
    compose,
    container_of,
    control_plane_pods,
    etcd_caught_up,
    etcd_leader,
    etcdctl,
    kubectl,
    machine,
    runtime,
    wait_whole,
)
from tests.support import eventually

CONTROL_PLANE_LABEL = "node-role.kubernetes.io/control-plane"


# ---------------------------------------------------------------------- the shape
def test_the_control_plane_is_twelve_mirror_pods_on_three_marked_nodes() -> None:
    pods = control_plane_pods()
    assert set(pods) == {f"{c}-{m}" for c in COMPONENTS for m in MEMBERS}
    assert all(state == ("Running", True) for state in pods.values()), pods
    nodes = json.loads(kubectl("get", "nodes", "-o", "json").stdout)["items"]
    for node in nodes:
        if node["metadata"]["name"] not in MEMBERS:
            continue
        assert CONTROL_PLANE_LABEL in node["metadata"]["labels"]
        taints = {(t["key"], t["effect"]) for t in node["spec"].get("taints", [])}
        assert (CONTROL_PLANE_LABEL, "NoSchedule") in taints
    # kubectl's ROLES column, as on a kubeadm cluster.
    roles = {
        line.split()[0]: line.split()[2] for line in kubectl("get", "nodes").stdout.splitlines()[1:]
    }
    assert all(roles[m] == "control-plane" for m in MEMBERS), roles
    # Each mirror pod runs where its static pod is, on the machine's own network.
    wide = json.loads(
        kubectl("get", "pod", "-n", "kube-system", "kube-apiserver-cp-2", "-o", "json").stdout
    )
    assert wide["spec"]["nodeName"] == "cp-2"
    assert wide["status"]["podIP"] == MEMBERS["cp-2"]
    assert wide["metadata"]["annotations"]["kubernetes.io/config.mirror"]
    # The machines' kubelets run their static pods on their own runtime (containerd unless
    # PODPLANE_CONTAINER_RUNTIME says docker), and each mirror pod shows the container that
    # runtime runs.
    for node in nodes:
        member = node["metadata"]["name"]
        if member in MEMBERS:
            version = node["status"]["nodeInfo"]["containerRuntimeVersion"]
            assert version.startswith(f"{runtime(member)}://"), (member, version)
    apiserver = container_of("cp-2", "kube-apiserver")
    statuses = wide["status"]["containerStatuses"]
    assert [s["containerID"] for s in statuses] == [f"{runtime('cp-2')}://{apiserver}"]


def test_etcd_is_three_members_and_the_kubernetes_service_lists_every_apiserver() -> None:
    members = json.loads(etcdctl("cp-1", "member", "list", "-w", "json"))["members"]
    assert sorted(m["name"] for m in members) == sorted(MEMBERS)
    assert all(m["peerURLs"] == [f"https://{MEMBERS[m['name']]}:2380"] for m in members), (
        "peers over TLS"
    )
    assert etcd_leader() in MEMBERS
    endpoints = json.loads(
        kubectl("get", "endpoints", "kubernetes", "-n", "default", "-o", "json").stdout
    )
    addresses = {a["ip"] for s in endpoints["subsets"] for a in s["addresses"]}
    assert addresses == set(MEMBERS.values())


def test_each_apiserver_holds_an_identity_lease_named_after_its_machine() -> None:
    """`kubectl get leases -n kube-system -l apiserver.kubernetes.io/identity=kube-apiserver`
    counts the apiservers, as on a kubeadm cluster: one lease per machine, renewed."""
    leases = json.loads(
        kubectl(
            "get",
            "leases",
            "-n",
            "kube-system",
            "-l",
            "apiserver.kubernetes.io/identity=kube-apiserver",
            "-o",
            "json",
        ).stdout
    )["items"]
    by_host = {lease["metadata"]["labels"]["kubernetes.io/hostname"]: lease for lease in leases}
    assert set(by_host) == set(MEMBERS)
    for member, lease in by_host.items():
        assert lease["metadata"]["name"] == apiserver_id(member)
        assert lease["spec"]["holderIdentity"].startswith(apiserver_id(member) + "_")
        renewed = datetime.fromisoformat(lease["spec"]["renewTime"].replace("Z", "+00:00"))
        assert datetime.now(UTC) - renewed < timedelta(seconds=60), (member, renewed)


# ---------------------------------------------------------------------- etcd leader loss
async def test_killing_the_etcd_leaders_machine_loses_no_acknowledged_write(
    client: Client, namespace: str
) -> None:
    await wait_whole()
    leader = await asyncio.to_thread(etcd_leader)
    checker = WatchChecker(client.pods, namespace)
    # Listed before the first create: a create racing the list is in it, not in the watch (it
    # failed a run: churn-1 'unseen').
    checking = await checker.start()
    churn = PodChurn(client, namespace)
    writing = asyncio.create_task(churn.run(rate=10))
    try:

        def acked_since(since: float, count: int) -> Callable[[], Awaitable[bool]]:
            async def acked() -> bool:
                return sum(t >= since for t in churn.ack_times) >= count

            return acked

        # Writes flowing (2 s of them), then the leader killed: writing goes on until the writes
        # have resumed for 3 s, which the longest pause below is measured over.
        started = time.monotonic()
        await eventually(acked_since(started, 20), 60, interval=0.1, what="20 writes")
        killed = time.monotonic()
        await asyncio.to_thread(compose, "kill", leader)
        await eventually(acked_since(killed, 30), 60, interval=0.1, what="30 writes after the kill")
    finally:
        await stop_task(writing)
    # Writes stopped only for a few seconds: the longest pause between acknowledged writes.
    acks = [t for t in churn.ack_times if t >= killed - 5]
    longest = max(b - a for a, b in itertools.pairwise(acks))
    after_kill = (churn.first_ack_after(killed) or 0) - killed
    try:
        # Every acknowledged write is stored (read back through the load balancer).
        await assert_acknowledged_writes_stored(client, namespace, churn)
        assert longest < 15, f"writes stopped for {longest:.1f} s"

        # The watch saw each acknowledged create once, resuming from its last resourceVersion.
        def unseen() -> set[str]:
            return churn.created - {n for t, n, _ in checker.events if t == "ADDED"}

        async def watched_all() -> bool:
            return not unseen()

        try:
            await eventually(watched_all, 60, interval=0.5, what="the watch to see every create")
        except AssertionError as e:
            last = checker.event_times[-1] - killed if checker.event_times else None
            raise AssertionError(
                f"{e}: {len(unseen())} creates unseen ({sorted(unseen())[:5]}...); the watch "
                f"reconnected {checker.reconnects} times, its resumes refused: {checker.expired}, "
                f"its last event {last} s after the kill at resourceVersion "
                f"{checker.resource_version}; the writes' last {churn.ack_times[-1] - killed:.1f} s"
            ) from e
        added = [n for t, n, _ in checker.events if t == "ADDED"]
        assert len(added) == len(set(added)), "an object was added twice to the watch"
        assert not checker.expired, checker.expired

        # The controllers and the scheduler carry on: a Deployment whose pods tolerate the
        # control plane's taint (and keep off the killed machine, which the node controller
        # has not yet found out) gets its ReplicaSet and pods, scheduled and Running.
        await client.deployments.create(_tolerating_deployment(namespace, avoid=leader))

        async def running() -> bool:
            pods = (await client.pods.list(namespace, label_selector="app=after-kill")).items
            return len(pods) == 2 and all(p.status.phase == "Running" for p in pods)

        await eventually(running, 120, interval=1, what="the Deployment's two pods Running")
    finally:
        await stop_task(checking)
        restarted = time.monotonic()
        await asyncio.to_thread(compose, "start", leader)
        # The killed machine rejoins: its etcd member catches up, its apiserver serves again.
        await etcd_caught_up(leader)
        await wait_whole()
        rejoined = time.monotonic() - restarted
    record(
        "HA: etcd leader's machine killed",
        longest_write_pause=longest,
        first_write_after_kill=after_kill,
        rejoined_after_start=rejoined,
    )


def _tolerating_deployment(namespace: str, avoid: str) -> Any:
    return manifest.from_dict(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "after-kill", "namespace": namespace},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"app": "after-kill"}},
                "template": {
                    "metadata": {"labels": {"app": "after-kill"}},
                    "spec": {
                        "tolerations": [
                            {
                                "key": CONTROL_PLANE_LABEL,
                                "operator": "Exists",
                                "effect": "NoSchedule",
                            }
                        ],
                        "affinity": {
                            "nodeAffinity": {
                                "requiredDuringSchedulingIgnoredDuringExecution": {
                                    "nodeSelectorTerms": [
                                        {
                                            "matchExpressions": [
                                                {
                                                    "key": "kubernetes.io/hostname",
                                                    "operator": "NotIn",
                                                    "values": [avoid],
                                                }
                                            ]
                                        }
                                    ]
                                }
                            }
                        },
                        "terminationGracePeriodSeconds": 0,
                        "containers": [
                            {
                                "name": "main",
                                "image": "busybox",
                                "imagePullPolicy": "IfNotPresent",
                                "command": ["sleep", "3600"],
                            }
                        ],
                    },
                },
            },
        }
    )


# ---------------------------------------------------------------------- apiserver loss
class Caller:
    """Creates ConfigMaps one after another through the load balancer while it runs; a call
    that fails is counted and retried once, and a retry that fails too fails the test."""

    def __init__(self, client: Client, namespace: str) -> None:
        self.client, self.namespace = client, namespace
        self.failures: list[str] = []
        self.calls = 0
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        n = 0
        while not self._stop.is_set():
            n += 1
            self.calls += 1
            try:
                await _create_config_map(self.client, self.namespace, f"cm-{n}")
            except Exception as e:  # noqa: BLE001 - counted: one retry is allowed
                self.failures.append(f"{n}: {e}")
                await _create_config_map(self.client, self.namespace, f"cm-{n}", retry=True)
            await asyncio.sleep(0.05)

    async def __aenter__(self) -> Caller:
        self._task = asyncio.create_task(self._run())
        await self.called(20)
        return self

    async def called(self, more: int) -> None:
        """Until `more` calls more have been made (each answered, or failed and retried)."""
        target = self.calls + more

        async def made() -> bool:
            return self.calls >= target

        await eventually(made, 60, interval=0.1, what=f"{more} calls")

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._stop.set()
        await self._task


async def test_an_apiserver_stopped_costs_a_client_at_most_one_retried_call(
    client: Client, namespace: str
) -> None:
    """kubeadm's way to stop a static pod: move its manifest out of the kubelet's folder."""
    await wait_whole()
    stopped = 0.0
    try:
        async with Caller(client, namespace) as caller:
            await asyncio.to_thread(
                machine, "cp-3", "mv", f"{MANIFESTS}/kube-apiserver.yaml", "/root/"
            )
            started = time.monotonic()

            async def gone() -> bool:
                return not await asyncio.to_thread(container_of, "cp-3", "kube-apiserver")

            await eventually(gone, 60, interval=0.5, what="cp-3's apiserver to stop")
            stopped = time.monotonic() - started
            await caller.called(150)  # calls go on through the other two
    finally:
        await asyncio.to_thread(machine, "cp-3", "mv", "/root/kube-apiserver.yaml", f"{MANIFESTS}/")
    # Each call failed at most once, and then its retry went through (it would have raised).
    assert len(caller.failures) <= 3, caller.failures
    assert caller.calls > 50, "the client hardly called"
    await wait_whole()
    record("HA: one apiserver stopped", stopped_after=stopped, failed_calls=len(caller.failures))


async def test_a_flag_rolled_through_the_apiservers_one_at_a_time_keeps_the_api_answering(
    client: Client, namespace: str
) -> None:
    """As an upgrade or a flag change goes with kubeadm: one machine's manifest at a time, the
    next once that machine's apiserver is back and ready; then rolled back the same way."""
    await wait_whole()
    flag = "--etcd-compaction-interval=301"
    add = rf"s|^\(\s*\)- --enable-bootstrap-token-auth$|&\n\1- {flag}|"
    remove = f"/- {flag}$/d"
    try:
        async with Caller(client, namespace) as caller:
            for edit in (add, remove):
                for member in MEMBERS:
                    await _restart_apiserver_with(member, edit)
                    await wait_whole()
    finally:
        for member in MEMBERS:
            await asyncio.to_thread(
                machine, member, "sed", "-i", remove, f"{MANIFESTS}/kube-apiserver.yaml"
            )
    # Six restarts: at most one failed (and then retried) call for each.
    assert len(caller.failures) <= 6, caller.failures
    assert caller.calls > 100, "the client hardly called"
    await wait_whole()


async def _restart_apiserver_with(member: str, edit: str) -> None:
    before = await asyncio.to_thread(container_of, member, "kube-apiserver")
    await asyncio.to_thread(machine, member, "sed", "-i", edit, f"{MANIFESTS}/kube-apiserver.yaml")

    async def replaced() -> bool:
        now = await asyncio.to_thread(container_of, member, "kube-apiserver")
        return bool(now) and now != before

    await eventually(replaced, 90, interval=0.5, what=f"{member}'s apiserver to restart")


async def _create_config_map(
    client: Client, namespace: str, name: str, retry: bool = False
) -> None:
    obj = manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": namespace},
            "data": {"n": name},
        },
        core_pb2.ConfigMap,
    )
    try:
        async with asyncio.timeout(10):
            await client.configmaps.create(obj)
    except Exception:
        if not retry:
            raise
        async with asyncio.timeout(10):
            await client.configmaps.get(name, namespace)
        return


# ---------------------------------------------------------------------- manifest changes
async def test_a_flag_changed_in_one_manifest_restarts_only_that_component() -> None:
    await wait_whole()
    before = {c: await asyncio.to_thread(container_of, "cp-1", c) for c in COMPONENTS}
    assert all(before.values()), before
    path = "/etc/kubernetes/manifests/kube-scheduler.yaml"
    original = await asyncio.to_thread(machine, "cp-1", "cat", path)
    changed = original.replace(
        "- --bind-address=0.0.0.0", "- --bind-address=0.0.0.0\n    - --log-level=DEBUG"
    )
    assert changed != original
    local = Path(f"/tmp/kube-scheduler-{time.monotonic_ns()}.yaml")
    local.write_text(changed)
    try:
        await asyncio.to_thread(compose, "cp", str(local), f"cp-1:{path}")

        async def restarted() -> bool:
            now = await asyncio.to_thread(container_of, "cp-1", "kube-scheduler")
            return bool(now) and now != before["kube-scheduler"]

        await eventually(restarted, 90, interval=1, what="cp-1's scheduler to restart")
        after = {c: await asyncio.to_thread(container_of, "cp-1", c) for c in COMPONENTS}
        assert {c for c in COMPONENTS if after[c] != before[c]} == {"kube-scheduler"}

        # The mirror pod shows the new command.
        async def mirrored() -> bool:
            pod = json.loads(
                (
                    await asyncio.to_thread(
                        kubectl,
                        "get",
                        "pod",
                        "-n",
                        "kube-system",
                        "kube-scheduler-cp-1",
                        "-o",
                        "json",
                    )
                ).stdout
            )
            return "--log-level=DEBUG" in pod["spec"]["containers"][0]["command"]

        await eventually(mirrored, 60, interval=1, what="the mirror pod's new command")
    finally:
        local.write_text(original)
        await asyncio.to_thread(compose, "cp", str(local), f"cp-1:{path}")
        local.unlink()
    await wait_whole()
