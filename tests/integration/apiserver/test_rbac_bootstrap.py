"""The bootstrap policy's reconciliation at start on the real etcd: two apiservers starting at
once both come up and store each bootstrap object once, and a restart puts back what was removed
from a bootstrap role (and leaves one annotated autoupdate: "false" alone)."""

from __future__ import annotations

import asyncio

from apiserver.auth import bootstrap_policy
from apiserver.auth.escalation import missing_rules
from apiserver.server import APIServer
from podplane.api.rbac.v1 import rbac_pb2
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


async def test_a_restart_gives_an_edited_role_its_rules_back_unless_autoupdate_is_false(
    etcd: EtcdProcess,
) -> None:
    """An autoupdate "true" ClusterRole and Role cut down, with a rule of the user's own, get
    Kubernetes' rules back beside the user's at the next start; an annotation removed counts
    as "true" and is put back; "false" leaves the object as edited; a deleted RoleBinding is
    made again."""
    server = APIServer([etcd.endpoint], "127.0.0.1:0")
    await server.start(etcd_timeout=20)
    client = Client(f"127.0.0.1:{server.port}", timeout=10)
    own = rbac_pb2.PolicyRule(verbs=["get"], api_groups=["example.com"], resources=["widgets"])
    try:
        replicaset = await client.clusterroles.get("system:controller:replicaset-controller")
        del replicaset.rules[:]
        replicaset.rules.append(own)
        del replicaset.metadata.annotations[bootstrap_policy.AUTOUPDATE]
        await client.clusterroles.update(replicaset)
        reader = await client.roles.get("extension-apiserver-authentication-reader", "kube-system")
        del reader.rules[:]
        reader.rules.append(own)
        await client.roles.update(reader)
        cleaner = await client.roles.get("system:controller:token-cleaner", "kube-system")
        cleaner.metadata.annotations[bootstrap_policy.AUTOUPDATE] = "false"
        del cleaner.rules[:]
        cleaner.rules.append(own)
        await client.roles.update(cleaner)
        await client.rolebindings.delete("system:controller:bootstrap-signer", "kube-public")
    finally:
        await client.close()
        await server.stop(0)

    restarted = APIServer([etcd.endpoint], "127.0.0.1:0")
    await restarted.start(etcd_timeout=20)
    client = Client(f"127.0.0.1:{restarted.port}", timeout=10)
    try:
        expected = {r.metadata.name: r for r in bootstrap_policy.cluster_roles()}
        replicaset = await client.clusterroles.get("system:controller:replicaset-controller")
        assert replicaset.rules[0] == own
        wanted = expected["system:controller:replicaset-controller"].rules
        assert missing_rules(list(replicaset.rules), wanted) == []
        assert replicaset.metadata.annotations[bootstrap_policy.AUTOUPDATE] == "true"
        expected_roles = {r.metadata.name: r for r in bootstrap_policy.roles()}
        reader = await client.roles.get("extension-apiserver-authentication-reader", "kube-system")
        assert reader.rules[0] == own
        wanted = expected_roles["extension-apiserver-authentication-reader"].rules
        assert missing_rules(list(reader.rules), wanted) == []
        cleaner = await client.roles.get("system:controller:token-cleaner", "kube-system")
        assert list(cleaner.rules) == [own]
        signer = await client.rolebindings.get("system:controller:bootstrap-signer", "kube-public")
        assert [(s.kind, s.namespace, s.name) for s in signer.subjects] == [
            ("ServiceAccount", "kube-system", "bootstrap-signer")
        ]
    finally:
        # The session's etcd is shared: the next apiserver makes the protected Role afresh.
        await client.roles.delete("system:controller:token-cleaner", "kube-system")
        await client.close()
        await restarted.stop(0)
