"""`podplane-bench netpol`: how long the NetworkPolicy agent takes to put POLICIES policies in
force on a node, through its own sync path (netpol.agent.node_ruleset: every local pod's
allowed traffic computed from the pods, namespaces and policies, the rules rendered; then one
iptables-restore and the FORWARD hook), as each sync after a watch event runs it:

- the first sync, into empty tables (the agent's start on a node whose cluster has the policies);
- syncs after one more policy was added (the agent rewrites all of its chains each time).

The cluster: PODS pods over NAMESPACES namespaces, LOCAL_PODS of them on the measured node;
policy i selects the pods of one app label of its namespace (ingress from pods of another app
label, from namespaces by label, and from an ipBlock with an except, on a port range and a named
port; egress to DNS pods), so that every local pod is isolated by several policies. The time
from a policy's Create to the agent's sync adds a watch event's delivery (milliseconds).

--mode netns (default) runs the real iptables in a network namespace of its own (root);
--mode generate times the rule computation alone."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext

from bench.common.results import write_json
from bench.common.stats import percentile
from bench.kube_proxy.netns import NetnsError, network_namespace
from netpol.agent import node_ruleset
from netpol.iptables import rules
from podplane.api.core.v1 import core_pb2
from podplane.api.networking.v1 import networking_pb2
from podplane.apimachinery import manifest
from podplane.iptables.runner import ExecIptables

NODE = "node-1"
POD_CIDR = "10.244.1.0/24"
APPS = 10


def add_parser(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], positive: Callable[[str], int]
) -> None:
    p = sub.add_parser(
        "netpol",
        help="NetworkPolicy agent: time to program N policies on a node (first and later syncs)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--policies", type=positive, default=100, help="policies (default 100)")
    p.add_argument("--pods", type=positive, default=300, help="pods in the cluster (default 300)")
    p.add_argument(
        "--local-pods", type=positive, default=50, help="of which on this node (default 50)"
    )
    p.add_argument("--namespaces", type=positive, default=10, help="namespaces (default 10)")
    p.add_argument(
        "--mode",
        choices=("netns", "generate"),
        default="netns",
        help="netns: real iptables in a namespace of its own (root); generate: rules only",
    )
    p.add_argument("--syncs", type=positive, default=5, help="syncs after an added policy")
    p.add_argument("--out", default="build/bench/netpol.json", help="the JSON result")


def namespace(i: int) -> core_pb2.Namespace:
    ns = core_pb2.Namespace()
    ns.metadata.name = f"bench-{i}"
    ns.metadata.labels.update({"kubernetes.io/metadata.name": f"bench-{i}", "tier": str(i % 3)})
    return ns


def pod(i: int, args: argparse.Namespace) -> core_pb2.Pod:
    local = i < args.local_pods
    p = core_pb2.Pod()
    p.metadata.name, p.metadata.namespace = f"pod-{i}", f"bench-{i % args.namespaces}"
    p.metadata.labels["app"] = f"app-{i % APPS}"
    p.spec.node_name = NODE if local else f"node-{2 + i % 50}"
    p.spec.containers.add(name="c").ports.add(name="http", container_port=8080, protocol="TCP")
    p.status.phase = "Running"
    p.status.pod_ip = (
        f"10.244.1.{10 + i}" if local else f"10.{245 + i // 60000}.{i // 250 % 240}.{i % 250 + 2}"
    )
    return p


def policy(i: int, args: argparse.Namespace) -> networking_pb2.NetworkPolicy:
    app = {"matchLabels": {"app": f"app-{i % APPS}"}}
    peer_app = {"matchLabels": {"app": f"app-{(i + 1) % APPS}"}}
    return manifest.from_dict(
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": f"policy-{i}", "namespace": f"bench-{i % args.namespaces}"},
            "spec": {
                "podSelector": app,
                "policyTypes": ["Ingress", "Egress"],
                "ingress": [
                    {
                        "from": [
                            {"podSelector": peer_app},
                            {"namespaceSelector": {"matchLabels": {"tier": str(i % 3)}}},
                            {"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.244.0.0/16"]}},
                        ],
                        "ports": [{"port": 8000, "endPort": 8100}, {"port": "http"}],
                    }
                ],
                "egress": [
                    {
                        "to": [{"podSelector": peer_app, "namespaceSelector": {}}],
                        "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
                    }
                ],
            },
        },
        networking_pb2.NetworkPolicy,
    )


def run(args: argparse.Namespace) -> int:
    try:
        context: AbstractContextManager[list[str]] = (
            network_namespace() if args.mode == "netns" else nullcontext([])
        )
        with context as prefix:
            return _measure(args, ExecIptables(prefix) if args.mode == "netns" else None)
    except NetnsError as e:
        print(f"podplane-bench netpol: {e}", file=sys.stderr)
        return 1


def _measure(args: argparse.Namespace, iptables: ExecIptables | None) -> int:
    namespaces = [namespace(i) for i in range(args.namespaces)]
    pods = [pod(i, args) for i in range(args.pods)]
    policies = [policy(i, args) for i in range(args.policies)]
    owned: frozenset[str] = frozenset()

    def sync(count: int) -> tuple[float, float, int]:
        nonlocal owned
        started = time.perf_counter()
        ruleset = node_ruleset(NODE, POD_CIDR, pods, namespaces, policies[:count], stale=owned)
        generated = time.perf_counter()
        if iptables is not None:
            iptables.restore(ruleset.text)
            iptables.ensure_rule(rules.TABLE, rules.HOOK_CHAIN, rules.HOOK_RULE)
        owned = ruleset.chains
        lines = sum(1 for line in ruleset.text.splitlines() if line.startswith("-A "))
        return generated - started, time.perf_counter() - started, lines

    base = args.policies
    policies += [policy(base + i, args) for i in range(args.syncs)]
    first_generate, first_total, first_rules = sync(base)
    later = [sync(base + 1 + i) for i in range(args.syncs)]
    totals = sorted(t for _, t, _ in later)
    generates = sorted(g for g, _, _ in later)
    result = {
        "policies": base,
        "pods": args.pods,
        "local_pods": args.local_pods,
        "namespaces": args.namespaces,
        "mode": args.mode,
        "first_sync_seconds": round(first_total, 6),
        "first_sync_generate_seconds": round(first_generate, 6),
        "rules": first_rules,
        "added_policy_sync_p50_seconds": round(percentile(totals, 50), 6),
        "added_policy_sync_max_seconds": round(totals[-1], 6),
        "added_policy_generate_p50_seconds": round(percentile(generates, 50), 6),
    }
    write_json(args.out, result)
    print(
        f"{base} policies, {args.pods} pods ({args.local_pods} on the node), {first_rules} rules: "
        f"first sync {first_total:.3f}s (rules computed in {first_generate:.3f}s); "
        f"after an added policy p50 {percentile(totals, 50):.3f}s, max {totals[-1]:.3f}s "
        f"(computed in {percentile(generates, 50):.3f}s)"
    )
    return 0
