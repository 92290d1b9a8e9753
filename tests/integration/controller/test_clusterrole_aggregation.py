"""The cluster role aggregation controller against the real apiserver and etcd: the bootstrap
policy's view, edit and admin get their rules (view's within edit's within admin's), and an
aggregated role of a user's follows the roles its selector matches."""

from __future__ import annotations

from controller.clusterroleaggregation.controller import ClusterRoleAggregationController
from podplane.api.rbac.v1 import rbac_pb2
from podplane.apimachinery import manifest
from podplane.client.clientset import Client
from podplane.client.informer_factory import SharedInformerFactory
from tests.integration.controller_support import running
from tests.support import eventually

GROUP = "rbac.authorization.k8s.io"


def _resources(role: rbac_pb2.ClusterRole, group: str) -> set[str]:
    return {res for r in role.rules if group in r.api_groups for res in r.resources}


async def test_bootstrap_roles_and_a_users_role_are_aggregated(client: Client) -> None:
    informers = SharedInformerFactory(client)
    controller = ClusterRoleAggregationController(client, informers)
    async with running(controller):

        async def aggregated() -> bool:
            view = await client.clusterroles.get("view")
            edit = await client.clusterroles.get("edit")
            admin = await client.clusterroles.get("admin")
            return (
                "pods" in _resources(view, "")
                and "secrets" not in _resources(view, "")
                and _resources(view, "") <= _resources(edit, "")
                and "secrets" in _resources(edit, "")
                and "roles" in _resources(admin, GROUP)
                and _resources(edit, "") <= _resources(admin, "")
            )

        await eventually(aggregated, timeout=20, what="view, edit and admin aggregated")

        label = "rbac.example.com/aggregate-to-monitoring"
        await client.clusterroles.create(
            manifest.from_dict(
                {
                    "metadata": {"name": "monitoring"},
                    "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {label: "true"}}]},
                },
                rbac_pb2.ClusterRole,
            )
        )
        await client.clusterroles.create(
            manifest.from_dict(
                {
                    "metadata": {"name": "metrics-reader", "labels": {label: "true"}},
                    "rules": [{"verbs": ["get"], "nonResourceURLs": ["/metrics"]}],
                },
                rbac_pb2.ClusterRole,
            )
        )

        async def follows() -> bool:
            role = await client.clusterroles.get("monitoring")
            return [list(r.non_resource_urls) for r in role.rules] == [["/metrics"]]

        await eventually(follows, timeout=20, what="monitoring aggregated")
        await client.clusterroles.delete("metrics-reader")

        async def emptied() -> bool:
            return not (await client.clusterroles.get("monitoring")).rules

        await eventually(emptied, timeout=20, what="monitoring emptied")
    await client.clusterroles.delete("monitoring")
