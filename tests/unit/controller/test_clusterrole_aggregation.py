"""The cluster role aggregation controller against an in-memory apiserver: an aggregated role
gets the rules of the roles its selectors match, selector by selector and in name order, each
rule once; and follows a matching role's new rules, a new matching role, and one that goes."""

from __future__ import annotations

from controller.clusterroleaggregation.controller import ClusterRoleAggregationController
from podplane.api.rbac.v1 import rbac_pb2
from podplane.apimachinery import manifest
from podplane.client.informer_factory import SharedInformerFactory
from podplane.rbac.aggregation import aggregated_rules
from tests.unit.controller.fake_api import FakeCluster, running, until

LABEL = "rbac.example.com/aggregate-to-monitoring"


def role(name: str, verbs: list[str], resource: str, **labels: str) -> rbac_pb2.ClusterRole:
    return manifest.from_dict(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": name, "labels": labels},
            "rules": [{"verbs": verbs, "apiGroups": [""], "resources": [resource]}],
        },
        rbac_pb2.ClusterRole,
    )


def aggregated(name: str, *labels: str) -> rbac_pb2.ClusterRole:
    return manifest.from_dict(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": name},
            "aggregationRule": {
                "clusterRoleSelectors": [{"matchLabels": {label: "true"}} for label in labels]
            },
        },
        rbac_pb2.ClusterRole,
    )


def resources_of(r: rbac_pb2.ClusterRole) -> list[str]:
    return [res for rule in r.rules for res in rule.resources]


def test_rules_selector_by_selector_in_name_order_each_once() -> None:
    roles = {
        "b": role("b", ["get"], "pods", **{LABEL: "true"}),
        "a": role("a", ["get"], "services", **{LABEL: "true"}),
        "dup": role("dup", ["get"], "pods", other="true"),
        "c": role("c", ["get"], "nodes", other="true"),
        "unlabelled": role("unlabelled", ["get"], "secrets"),
    }
    assert resources_of(
        rbac_pb2.ClusterRole(rules=aggregated_rules(aggregated("m", LABEL, "other"), roles))
    ) == ["services", "pods", "nodes"]


async def test_an_aggregated_role_follows_the_roles_it_selects() -> None:
    cluster = FakeCluster()
    api = cluster.clusterroles
    await api.create(aggregated("monitoring", LABEL))
    await api.create(role("pods-reader", ["get"], "pods", **{LABEL: "true"}))
    await api.create(role("unrelated", ["get"], "secrets"))
    controller = ClusterRoleAggregationController(cluster, SharedInformerFactory(cluster))  # type: ignore[arg-type]

    def monitoring() -> list[str]:
        return resources_of(api.store["/monitoring"])

    async with running(controller):
        await until(lambda: monitoring() == ["pods"], "the first aggregation", cluster)
        await api.create(role("svc-reader", ["list"], "services", **{LABEL: "true"}))
        await until(lambda: monitoring() == ["pods", "services"], "a new role's rules", cluster)
        changed = rbac_pb2.ClusterRole()
        changed.CopyFrom(api.store["/pods-reader"])
        changed.rules[0].resources[:] = ["pods/log"]
        await api.update(changed)
        await until(lambda: monitoring() == ["pods/log", "services"], "changed rules", cluster)
        await api.delete("svc-reader")
        await until(lambda: monitoring() == ["pods/log"], "a gone role's rules out", cluster)
