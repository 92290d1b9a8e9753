"""`kubeadm init phase mark-control-plane` (cmd/kubeadm/app/phases/markcontrolplane): once the
machine's kubelet has registered its Node, label it node-role.kubernetes.io/control-plane and
node.kubernetes.io/exclude-from-external-load-balancers, and taint it
node-role.kubernetes.io/control-plane:NoSchedule, so that only pods that tolerate the taint (the
control plane's own, DaemonSets') run there. A kubelet may not set node-role labels itself
(NodeRestriction), so this is done with the admin's credentials."""

from __future__ import annotations

import asyncio
import logging

from podplane.api.core.v1 import core_pb2
from podplane.client.clientset import Client, is_conflict, is_not_found

log = logging.getLogger(__name__)

CONTROL_PLANE_LABEL = "node-role.kubernetes.io/control-plane"
EXCLUDE_FROM_LB_LABEL = "node.kubernetes.io/exclude-from-external-load-balancers"
CONTROL_PLANE_TAINT = core_pb2.Taint(key=CONTROL_PLANE_LABEL, effect="NoSchedule")


def marked(node: core_pb2.Node) -> bool:
    labels = node.metadata.labels
    return (
        CONTROL_PLANE_LABEL in labels
        and EXCLUDE_FROM_LB_LABEL in labels
        and any(
            t.key == CONTROL_PLANE_TAINT.key and t.effect == CONTROL_PLANE_TAINT.effect
            for t in node.spec.taints
        )
    )


def mark(node: core_pb2.Node) -> None:
    node.metadata.labels[CONTROL_PLANE_LABEL] = ""
    node.metadata.labels[EXCLUDE_FROM_LB_LABEL] = ""
    if not any(
        t.key == CONTROL_PLANE_TAINT.key and t.effect == CONTROL_PLANE_TAINT.effect
        for t in node.spec.taints
    ):
        node.spec.taints.append(CONTROL_PLANE_TAINT)


async def mark_control_plane(client: Client, name: str, interval: float = 2.0) -> None:
    """Waits for the Node `name`, then marks it (again on a conflict with the kubelet's writes);
    errors while the apiservers come up are waited out, as kubeadm's retries do."""
    while True:
        try:
            node = await client.nodes.get(name)
            if marked(node):
                return
            mark(node)
            await client.nodes.update(node)
            log.info("marked node %s as a control-plane node", name)
            return
        except Exception as e:  # noqa: BLE001 - not registered yet, a conflict, no apiserver yet
            if not (is_not_found(e) or is_conflict(e)):
                log.info("waiting to mark node %s: %s", name, e)
        await asyncio.sleep(interval)
