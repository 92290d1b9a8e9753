"""status.loadBalancer.ingress of the Ingresses served (ingress-nginx's status sync with
--publish-service): the addresses of the Service in front of the controller, its load balancer's
(its cluster IP when it is not a LoadBalancer), or --publish-status-address's."""

from __future__ import annotations

import ipaddress

from podplane.api.core.v1 import service_pb2
from podplane.api.networking.v1 import networking_pb2
from podplane.client.clientset import Client, is_not_found

Address = tuple[str, str]  # (ip, hostname), one of them set


def _address(value: str) -> Address:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return ("", value)
    return (value, "")


def published_addresses(
    fixed: tuple[str, ...], service: service_pb2.Service | None
) -> list[Address]:
    if fixed:
        return sorted(_address(a) for a in fixed)
    if service is None:
        return []
    if service.spec.type == "LoadBalancer":
        return sorted((i.ip, i.hostname) for i in service.status.load_balancer.ingress)
    if service.spec.cluster_ip and service.spec.cluster_ip != "None":
        return [(service.spec.cluster_ip, "")]
    return []


def current_addresses(ing: networking_pb2.Ingress) -> list[Address]:
    return sorted((i.ip, i.hostname) for i in ing.status.load_balancer.ingress)


async def update_status(
    client: Client, ing: networking_pb2.Ingress, addresses: list[Address]
) -> None:
    """Writes the addresses when the Ingress shows others (a copy: cached objects are shared)."""
    if current_addresses(ing) == addresses:
        return
    updated = networking_pb2.Ingress()
    updated.CopyFrom(ing)
    del updated.status.load_balancer.ingress[:]
    for ip, hostname in addresses:
        updated.status.load_balancer.ingress.add(ip=ip, hostname=hostname)
    try:
        await client.ingresses.update_status(updated)
    except Exception as e:
        if not is_not_found(e):
            raise
