"""The networking.k8s.io group's kinds (kubernetes pkg/registry/networking/ingress, ingressclass,
networkpolicy): a create starts at generation 1 and a spec change moves it (the store's rule for
every kind with a spec); an Ingress is created without status, an update keeps the stored
status and a status update the stored spec (the ingress controller writes the status)."""

from __future__ import annotations

from google.protobuf.message import Message

from apiserver.defaulting import networking as defaulting
from apiserver.registry.strategies.base import StatusWrite, Strategy, clear_status, copy_status
from apiserver.validation import ingress, network_policy
from podplane.apimachinery import resources


def _keep_nothing(new: Message, stored: Message) -> None:
    return None


# Each of its own message type (strategy.py's table holds them all).
STRATEGIES = (
    Strategy(
        resources.INGRESS,
        ingress.ingress,
        ingress.ingress_update,
        prepare_for_create=clear_status,
        status_writes={
            "status": StatusWrite(copy_status, _keep_nothing, ingress.ingress_status_update)
        },
    ),
    Strategy(
        resources.INGRESS_CLASS,
        ingress.ingress_class,
        ingress.ingress_class_update,
        default=defaulting.ingress_class,
    ),
    Strategy(
        resources.NETWORK_POLICY,
        network_policy.network_policy,
        network_policy.network_policy_update,
        default=defaulting.network_policy,
    ),
)
