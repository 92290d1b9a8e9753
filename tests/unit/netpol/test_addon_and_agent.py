"""The add-on's DaemonSet runs the agent with flags it takes and the rights it needs; a node's
rules from the cluster's objects (netpol.agent.node_ruleset): only this node's pods, the guard
only while a policy exists."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from netpol.__main__ import parse_args
from netpol.agent import node_ruleset
from podplane.api.core.v1 import core_pb2
from podplane.api.networking.v1 import networking_pb2
from podplane.apimachinery import manifest
from podplane.componentbase import pki

ADDON = Path(__file__).parents[3] / "docker" / "addons" / "network-policies.yaml"


def documents() -> dict[str, Any]:
    return {d["kind"]: d for d in yaml.safe_load_all(ADDON.read_text())}


def test_the_daemonset_runs_the_agent_on_every_node_in_the_node_network(tmp_path: Path) -> None:
    ds = documents()["DaemonSet"]
    spec = ds["spec"]["template"]["spec"]
    assert spec["hostNetwork"] is True
    assert spec["tolerations"] == [{"operator": "Exists"}]
    assert spec["serviceAccountName"] == "network-policies"
    (container,) = spec["containers"]
    assert set(container["securityContext"]["capabilities"]["add"]) >= {"NET_ADMIN"}
    command = container["command"]
    assert command[:3] == ["python", "-m", "netpol"]
    # What the kubelet mounts: the account's token and the cluster's CA.
    (tmp_path / "token").write_text("a-service-account-token\n")
    pki.ensure_ca(tmp_path)
    account = "/var/run/secrets/kubernetes.io/serviceaccount"
    args = parse_args(
        [a.replace("$(NODE_NAME)", "node-1").replace(account, str(tmp_path)) for a in command[3:]]
    )
    assert (args.hostname, args.server, args.pod_cidr) == ("node-1", "apiserver:6444", "")
    assert args.credentials.token_file == str(tmp_path / "token")


def test_the_role_lists_and_watches_what_the_agent_reads() -> None:
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
        {"kind": "ServiceAccount", "name": "network-policies", "namespace": "kube-system"}
    ]


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
