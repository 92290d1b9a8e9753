"""Services, Endpoints and EndpointSlices (kubernetes pkg/registry/core/service, endpoint;
pkg/registry/discovery/endpointslice)."""

from __future__ import annotations

from typing import Any

from apiserver.defaulting import service as service_defaulting
from apiserver.defaulting import service_prepare
from apiserver.registry.strategies.base import Strategy, meta_fields
from apiserver.validation import endpoints as endpoints_validation
from apiserver.validation import service as service_validation
from apiserver.validation.fields import FieldError
from podplane.api.core.v1 import service_pb2
from podplane.api.discovery.v1 import discovery_pb2
from podplane.apimachinery import resources


def _service_fields(obj: service_pb2.Service) -> dict[str, str]:
    return {**meta_fields(obj), "spec.clusterIP": obj.spec.cluster_ip, "spec.type": obj.spec.type}


def _service_update(new: service_pb2.Service, old: service_pb2.Service) -> list[FieldError]:
    # A status update is not defaulted by the store: its ingress IPs get their mode here, as
    # Kubernetes defaults them when it decodes the request.
    service_defaulting.load_balancer_ip_mode(new)
    return service_validation.service_update(new, old)


def _prepare_endpoints_update(new: service_pb2.Endpoints, old: service_pb2.Endpoints) -> None:
    # Endpoints have no spec, so the store does not default them on update: done here.
    service_defaulting.endpoints(new)


def _prepare_endpoint_slice_update(
    new: discovery_pb2.EndpointSlice, old: discovery_pb2.EndpointSlice
) -> None:
    # An EndpointSlice has no spec, so the store does not default it on update: done here. Its
    # generation counts the changes of its endpoints, ports and address type.
    service_defaulting.endpoint_slice(new)
    if (new.endpoints, new.ports, new.address_type) != (old.endpoints, old.ports, old.address_type):
        new.metadata.generation = old.metadata.generation + 1


STRATEGIES: tuple[Strategy[Any], ...] = (
    Strategy(
        resources.SERVICE,
        service_validation.service,
        _service_update,
        _service_fields,
        service_defaulting.service,
        service_prepare.prepare_for_create,
        frozenset({"spec.clusterIP", "spec.type"}),
        prepare_for_update=service_prepare.prepare_for_update,
    ),
    Strategy(
        resources.ENDPOINTS,
        endpoints_validation.endpoints,
        endpoints_validation.endpoints_update,
        default=service_defaulting.endpoints,
        prepare_for_update=_prepare_endpoints_update,
    ),
    Strategy(
        resources.ENDPOINT_SLICE,
        endpoints_validation.endpoint_slice,
        endpoints_validation.endpoint_slice_update,
        default=service_defaulting.endpoint_slice,
        prepare_for_update=_prepare_endpoint_slice_update,
    ),
)
