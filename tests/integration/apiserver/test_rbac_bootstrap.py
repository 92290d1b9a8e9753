"""The bootstrap policy's reconciliation at start on the real etcd: two apiservers starting at
once both come up and store each bootstrap object once, and a restart puts back what was removed
from a bootstrap role (and leaves one annotated autoupdate: "false" alone)."""

from __future__ import annotations

import asyncio

from apiserver.auth import bootstrap_policy
from apiserver.auth.escalation import missing_rules
from apiserver.server import APIServer
from podplane.client.clientset import Client
from tests.support import EtcdProcess

GROUP = "rbac.authorization.k8s.io"


async def test_apiservers_starting_together_reconcile_once(etcd: EtcdProcess) -> None:
    first = APIServer([etcd.endpoint], "127.0.0.1:0")
    await first.start(etcd_timeout=20)
    client = Client(f"127.0.0.1:{first.port}", timeout=10)
    try:
        # Take a rule from a bootstrap role, and protect another one's changes.
        discovery = await client.clusterroles.get("system:discovery")
        del discovery.rules[:]
        await client.clusterroles.update(discovery)
        monitoring = await client.clusterroles.get("system:monitoring")
        monitoring.metadata.annotations[bootstrap_policy.AUTOUPDATE] = "false"
        del monitoring.rules[:]
        await client.clusterroles.update(monitoring)
        await client.clusterrolebindings.delete("system:basic-user")

        a = APIServer([etcd.endpoint], "127.0.0.1:0")
        b = APIServer([etcd.endpoint], "127.0.0.1:0")
        await asyncio.gather(a.start(etcd_timeout=20), b.start(etcd_timeout=20))
        try:
            roles = {r.metadata.name: r for r in (await client.clusterroles.list()).items}
            bindings = {b.metadata.name for b in (await client.clusterrolebindings.list()).items}
            expected = next(
                r for r in bootstrap_policy.cluster_roles() if r.metadata.name == "system:discovery"
            )
            # The missing rules, broken down per URL as Kubernetes adds them, added once.
            restored = list(roles["system:discovery"].rules)
            assert missing_rules(restored, expected.rules) == []
            assert len(restored) == len(expected.rules[0].non_resource_urls)
            assert list(roles["system:monitoring"].rules) == []
            assert "system:basic-user" in bindings
            for role in bootstrap_policy.cluster_roles():
                assert role.metadata.name in roles
            # Both apiservers' authorizers see the policy.
            for server in (a, b):
                names = {x.metadata.name for x in server.rbac_policy.objects(type(expected))}
                assert "cluster-admin" in names
        finally:
            await asyncio.gather(a.stop(0), b.stop(0))
    finally:
        await client.close()
        await first.stop(0)
