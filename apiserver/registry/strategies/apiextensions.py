"""CustomResourceDefinitions (k8s.io/apiextensions-apiserver/pkg/registry/
customresourcedefinition): a new definition starts with no status but its storage version
recorded in status.storedVersions, and every later storage version is added there; the
apiserver's own controllers (apiserver/registry/apiextensions/) write the rest of the status.
The objects of the kinds they define have a strategy of their own, made from each definition
(apiserver/registry/customresource/)."""

from __future__ import annotations

from typing import Any

from apiserver.defaulting import apiextensions as apiextensions_defaulting
from apiserver.registry.strategies.base import Strategy
from apiserver.validation import apiextensions as apiextensions_validation
from podplane.api.apiextensions.v1 import apiextensions_pb2
from podplane.apimachinery import resources
from podplane.apimachinery.apiextensions import definitions

CRD = apiextensions_pb2.CustomResourceDefinition


def _record_storage_version(crd: CRD) -> None:
    storage = definitions.storage_version(crd)
    if storage and storage not in crd.status.stored_versions:
        crd.status.stored_versions.append(storage)


def _prepare_for_create(crd: CRD) -> None:
    crd.ClearField("status")
    _record_storage_version(crd)


def _prepare_for_update(new: CRD, old: CRD) -> None:
    _record_storage_version(new)


STRATEGIES: tuple[Strategy[Any], ...] = (
    Strategy(
        resources.CUSTOM_RESOURCE_DEFINITION,
        apiextensions_validation.custom_resource_definition,
        apiextensions_validation.custom_resource_definition_update,
        default=apiextensions_defaulting.custom_resource_definition,
        prepare_for_create=_prepare_for_create,
        prepare_for_update=_prepare_for_update,
    ),
)
