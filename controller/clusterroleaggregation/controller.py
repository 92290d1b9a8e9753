"""The cluster role aggregation controller (kubernetes pkg/controller/clusterroleaggregation): a
ClusterRole with an aggregationRule gets the union of the rules of the cluster roles its
selectors match (admin, edit and view of the bootstrap policy are made so), and follows them as
roles come, change and go."""

from __future__ import annotations

import logging

from controller.framework.reconciler import ReconcileLoop
from podplane.api.rbac.v1 import rbac_pb2
from podplane.apimachinery import resources
from podplane.client.clientset import Client, is_conflict, is_not_found
from podplane.client.informer import Informer
from podplane.client.informer_factory import SharedInformerFactory
from podplane.rbac.aggregation import aggregated_rules

log = logging.getLogger(__name__)


class ClusterRoleAggregationController:
    def __init__(
        self, client: Client, informers: SharedInformerFactory, *, workers: int = 1
    ) -> None:
        self.client = client
        self.cluster_roles: Informer[rbac_pb2.ClusterRole] = informers.informer_for(
            resources.CLUSTER_ROLE
        )
        self.loop = ReconcileLoop(
            "clusterrole-aggregation",
            self.reconcile,
            informers,
            [self.cluster_roles],
            workers=workers,
        )
        self.cluster_roles.add_handler(
            on_add=self._on_change,
            on_update=lambda _old, new: self._on_change(new),
            on_delete=self._on_change,
        )

    def _on_change(self, _: rbac_pb2.ClusterRole) -> None:
        # Every role's labels or rules may concern any aggregated role: look at them all (as
        # Kubernetes' controller does; there are few).
        for role in self.cluster_roles.list():
            if role.HasField("aggregation_rule"):
                self.loop.enqueue(role.metadata.name)

    async def run(self) -> None:
        await self.loop.run()

    async def reconcile(self, name: str) -> float | None:
        role = self.cluster_roles.get(name)
        if role is None or not role.HasField("aggregation_rule"):
            return None
        roles = {r.metadata.name: r for r in self.cluster_roles.list()}
        rules = aggregated_rules(role, roles)
        if list(role.rules) == rules:
            return None
        aggregated = rbac_pb2.ClusterRole()
        aggregated.CopyFrom(role)
        del aggregated.rules[:]
        aggregated.rules.extend(rules)
        try:
            await self.client.clusterroles.update(aggregated)
        except Exception as e:
            if is_not_found(e) or is_conflict(e):
                return None  # gone, or changed meanwhile: its event brings it back
            raise
        log.info("clusterrole %s: aggregated %d rules", name, len(rules))
        return None
