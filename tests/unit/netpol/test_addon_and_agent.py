"""Every node's entrypoint runs the agent, routes and all, with flags it takes, and the nodes'
group holds the rights it needs; a node's rules from the cluster's objects
(netpol.agent.node_ruleset): only this node's pods, the guard only while a policy exists."""

from __future__ import annotations

import asyncio
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

import netpol.__main__ as netpol_main
from netpol.__main__ import parse_args
from netpol.agent import node_ruleset
from podplane.api.core.v1 import core_pb2
from podplane.api.networking.v1 import networking_pb2
from podplane.apimachinery import manifest
from podplane.client.clientset import Client
from podplane.componentbase import pki

ROOT = Path(__file__).parents[3]
ADDON = ROOT / "docker" / "addons" / "network-policies.yaml"
ENTRYPOINT = ROOT / "docker" / "node-entrypoint.sh"


def documents() -> dict[str, Any]:
    return {d["kind"]: d for d in yaml.safe_load_all(ADDON.read_text())}


def entrypoint_command() -> list[str]:
    """The agent's command line in the node's entrypoint, its continued lines joined."""
    text = ENTRYPOINT.read_text().replace("\\\n", " ")
    (line,) = [
        line
        for line in text.splitlines()
        if "python -m netpol" in line and not line.lstrip().startswith("#")
    ]
    return shlex.split(line)


def test_every_node_runs_the_agent_with_its_routes_as_the_node(tmp_path: Path) -> None:
    command = entrypoint_command()
    assert command[:3] == ["python", "-m", "netpol"]
    pki.build(tmp_path, ["node-1"])
    environment = {
        "$(hostname)": "node-1",
        "$POD_CIDR": "10.244.1.0/24",
        "$POD_ROUTES_SERVER": "apiserver:6443",
        "$POD_ROUTES_CA": str(tmp_path / "ca.crt"),
        "$POD_ROUTES_CERT": str(tmp_path / "node-1.crt"),
        "$POD_ROUTES_KEY": str(tmp_path / "node-1.key"),
    }
    args = parse_args([environment.get(a, a) for a in command[3:]])
    assert (args.hostname, args.server, args.pod_cidr) == (
        "node-1",
        "apiserver:6443",
        "10.244.1.0/24",
    )
    assert args.pod_routes is True
    assert args.credentials.cert_file == str(tmp_path / "node-1.crt")


def test_the_nodes_list_and_watch_what_the_agent_reads() -> None:
    rules = documents()["ClusterRole"]["rules"]
    granted = {
        (group, resource, verb)
        for r in rules
        for group in r["apiGroups"]
        for resource in r["resources"]
        for verb in r["verbs"]
    }
    for group, resource in (
        ("", "pods"),
        ("", "namespaces"),
        ("networking.k8s.io", "networkpolicies"),
    ):
        assert {(group, resource, "list"), (group, resource, "watch")} <= granted
    assert ("", "nodes", "get") in granted
    binding = documents()["ClusterRoleBinding"]
    assert binding["roleRef"]["name"] == documents()["ClusterRole"]["metadata"]["name"]
    assert binding["subjects"] == [
        {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:nodes"}
    ]
    assert set(documents()) == {"ClusterRole", "ClusterRoleBinding"}


def pod(name: str, node: str, ip: str) -> core_pb2.Pod:
    p = core_pb2.Pod()
    p.metadata.name, p.metadata.namespace = name, "x"
    p.spec.node_name, p.status.pod_ip, p.status.phase = node, ip, "Running"
    return p


def test_a_node_programs_its_own_pods_and_guards_only_while_a_policy_exists() -> None:
    pods = [pod("here", "node-1", "10.244.1.2"), pod("there", "node-2", "10.244.2.2")]
    ns = core_pb2.Namespace()
    ns.metadata.name = "x"
    policy = manifest.from_dict(
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "deny", "namespace": "x"},
            "spec": {"podSelector": {}},
        },
        networking_pb2.NetworkPolicy,
    )
    quiet = node_ruleset("node-1", "10.244.1.0/24", pods, [ns], []).text
    assert "-s 10.244.1.2/32 -j RETURN" in quiet and "10.244.2.2" not in quiet
    assert "not programmed" not in quiet and "NETPOL-I-" not in quiet
    enforced = node_ruleset("node-1", "10.244.1.0/24", pods, [ns], [policy]).text
    assert (
        "pod not programmed yet" in enforced and "x/here ingress: no policy allows it" in enforced
    )


# The nodes whose routes the stand-in below was run for.
ROUTED: list[str] = []


class _Routes:
    """PodRoutes' stand-in: records that it ran, then runs until cancelled as the real one."""

    def __init__(self, client: object, own: str) -> None:
        self.own = own

    async def run(self) -> None:
        ROUTED.append(self.own)
        await asyncio.Event().wait()


@pytest.mark.parametrize("routes", [True, False])
def test_the_routes_run_from_the_start_whatever_the_policies_wait_for(
    monkeypatch: pytest.MonkeyPatch, routes: bool
) -> None:
    """The policies' watches may be refused until the addon-manager binds their role; the node's
    routes must not wait for that, nor run when not asked for."""
    policies_waiting = asyncio.Event()

    async def refused(client: object, args: object) -> None:
        policies_waiting.set()
        await asyncio.Event().wait()

    monkeypatch.setattr(netpol_main, "enforce", refused)
    monkeypatch.setattr(netpol_main, "PodRoutes", _Routes)
    ROUTED.clear()
    flags = ["--server=apiserver:6443", "--hostname-override=node-2"]
    args = parse_args([*flags, "--pod-routes"] if routes else flags)

    async def scenario() -> None:
        running = asyncio.create_task(netpol_main.node_network(Client("localhost:1"), args))
        async with asyncio.timeout(5):
            await policies_waiting.wait()
        # Both tasks were created together, the routes' second: its first step has run by now.
        await asyncio.sleep(0)
        assert not running.done()
        running.cancel()
        with pytest.raises(asyncio.CancelledError):
            await running

    asyncio.run(scenario())
    assert ROUTED == (["node-2"] if routes else [])
