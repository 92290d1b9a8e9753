"""APIServices (kube-aggregator pkg/registry/apiservice): a new one's status is the server's, and
a local one (no service) is Available at once, "Local"; an update keeps the status, a status
write keeps the rest. The availability of a service's APIService is not checked yet (Kubernetes'
AvailableConditionController): its status is what its writers set."""

from __future__ import annotations

from typing import Any

from apiserver.defaulting import apiregistration as defaulting
from apiserver.registry.strategies.base import StatusWrite, Strategy, copy_status
from apiserver.validation import apiregistration as validation
from podplane.api.apiregistration.v1 import apiregistration_pb2
from podplane.apimachinery import apiservices, resources

APIService = apiregistration_pb2.APIService


def _prepare_for_create(obj: APIService) -> None:
    obj.ClearField("status")
    if not obj.spec.HasField("service"):
        apiservices.set_local_available(obj)


def _as_written(new: APIService, old: APIService) -> None:
    return None


STRATEGIES: tuple[Strategy[Any], ...] = (
    Strategy(
        resources.API_SERVICE,
        validation.api_service,
        validation.api_service_update,
        default=defaulting.api_service,
        prepare_for_create=_prepare_for_create,
        status_writes={
            "status": StatusWrite(copy_status, _as_written, validation.api_service_status_update)
        },
    ),
)
