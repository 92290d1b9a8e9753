"""Which table each kind prints as (pkg/printers/internalversion's AddHandlers)."""

from __future__ import annotations

from typing import Any, TypeVar, cast

from google.protobuf.message import Message

from podplane.apimachinery import resources
from podplane.apimachinery.resources import ComputedResource, Resource
from podplane.printers.admissionregistration import (
    MUTATING_WEBHOOK_CONFIGURATION_TABLE,
    VALIDATING_ADMISSION_POLICY_BINDING_TABLE,
    VALIDATING_ADMISSION_POLICY_TABLE,
    VALIDATING_WEBHOOK_CONFIGURATION_TABLE,
)
from podplane.printers.apiregistration import API_SERVICE_TABLE
from podplane.printers.autoscaling import (
    HORIZONTAL_POD_AUTOSCALER_TABLE,
    HORIZONTAL_POD_AUTOSCALER_V1_TABLE,
)
from podplane.printers.certificates import CERTIFICATE_SIGNING_REQUEST_TABLE
from podplane.printers.component_status import COMPONENT_STATUS_TABLE
from podplane.printers.config import CONFIG_MAP_TABLE, SECRET_TABLE
from podplane.printers.cronjobs import CRON_JOB_TABLE
from podplane.printers.csi import (
    CSI_DRIVER_TABLE,
    CSI_NODE_TABLE,
    CSI_STORAGE_CAPACITY_TABLE,
    VOLUME_ATTACHMENT_TABLE,
)
from podplane.printers.custom import CUSTOM_RESOURCE_DEFINITION_TABLE
from podplane.printers.events import EVENT_TABLE, EVENTS_V1_TABLE
from podplane.printers.flowcontrol import FLOW_SCHEMA_TABLE, PRIORITY_LEVEL_TABLE
from podplane.printers.leases import LEASE_TABLE
from podplane.printers.namespaces import NAMESPACE_TABLE
from podplane.printers.networking import (
    INGRESS_CLASS_TABLE,
    INGRESS_TABLE,
    NETWORK_POLICY_TABLE,
)
from podplane.printers.nodes import NODE_TABLE
from podplane.printers.pods import POD_TABLE
from podplane.printers.policy import (
    POD_DISRUPTION_BUDGET_TABLE,
    PRIORITY_CLASS_TABLE,
    RUNTIME_CLASS_TABLE,
)
from podplane.printers.quota import LIMIT_RANGE_TABLE, POD_TEMPLATE_TABLE, RESOURCE_QUOTA_TABLE
from podplane.printers.rbac import (
    CLUSTER_ROLE_BINDING_TABLE,
    CLUSTER_ROLE_TABLE,
    ROLE_BINDING_TABLE,
    ROLE_TABLE,
)
from podplane.printers.serviceaccounts import SERVICE_ACCOUNT_TABLE
from podplane.printers.services import ENDPOINT_SLICE_TABLE, ENDPOINTS_TABLE, SERVICE_TABLE
from podplane.printers.sets import (
    CONTROLLER_REVISION_TABLE,
    DAEMON_SET_TABLE,
    STATEFUL_SET_TABLE,
)
from podplane.printers.spec import TableSpec
from podplane.printers.storage import (
    PERSISTENT_VOLUME_CLAIM_TABLE,
    PERSISTENT_VOLUME_TABLE,
    STORAGE_CLASS_TABLE,
)
from podplane.printers.workloads import (
    DEPLOYMENT_TABLE,
    JOB_TABLE,
    REPLICA_SET_TABLE,
    REPLICATION_CONTROLLER_TABLE,
)

M = TypeVar("M", bound=Message)

# Each kind's table, of that kind's objects (one message type per entry).
_TABLES: dict[str, TableSpec[Any]] = {
    resources.POD.plural: POD_TABLE,
    resources.NODE.plural: NODE_TABLE,
    resources.NAMESPACE.plural: NAMESPACE_TABLE,
    resources.EVENT.plural: EVENT_TABLE,
    resources.LEASE.plural: LEASE_TABLE,
    resources.REPLICATION_CONTROLLER.plural: REPLICATION_CONTROLLER_TABLE,
    resources.REPLICA_SET.plural: REPLICA_SET_TABLE,
    resources.DEPLOYMENT.plural: DEPLOYMENT_TABLE,
    resources.JOB.plural: JOB_TABLE,
    resources.CONFIG_MAP.plural: CONFIG_MAP_TABLE,
    resources.SECRET.plural: SECRET_TABLE,
    resources.POD_TEMPLATE.plural: POD_TEMPLATE_TABLE,
    resources.LIMIT_RANGE.plural: LIMIT_RANGE_TABLE,
    resources.RESOURCE_QUOTA.plural: RESOURCE_QUOTA_TABLE,
    resources.HORIZONTAL_POD_AUTOSCALER.plural: HORIZONTAL_POD_AUTOSCALER_TABLE,
    resources.INGRESS.plural: INGRESS_TABLE,
    resources.INGRESS_CLASS.plural: INGRESS_CLASS_TABLE,
    resources.NETWORK_POLICY.plural: NETWORK_POLICY_TABLE,
    resources.FLOW_SCHEMA.plural: FLOW_SCHEMA_TABLE,
    resources.PRIORITY_LEVEL_CONFIGURATION.plural: PRIORITY_LEVEL_TABLE,
    resources.SERVICE_ACCOUNT.plural: SERVICE_ACCOUNT_TABLE,
    resources.PERSISTENT_VOLUME.plural: PERSISTENT_VOLUME_TABLE,
    resources.PERSISTENT_VOLUME_CLAIM.plural: PERSISTENT_VOLUME_CLAIM_TABLE,
    resources.STORAGE_CLASS.plural: STORAGE_CLASS_TABLE,
    resources.CSI_DRIVER.plural: CSI_DRIVER_TABLE,
    resources.CSI_NODE.plural: CSI_NODE_TABLE,
    resources.CSI_STORAGE_CAPACITY.plural: CSI_STORAGE_CAPACITY_TABLE,
    resources.VOLUME_ATTACHMENT.plural: VOLUME_ATTACHMENT_TABLE,
    resources.SERVICE.plural: SERVICE_TABLE,
    resources.ENDPOINTS.plural: ENDPOINTS_TABLE,
    resources.ENDPOINT_SLICE.plural: ENDPOINT_SLICE_TABLE,
    resources.ROLE.plural: ROLE_TABLE,
    resources.CLUSTER_ROLE.plural: CLUSTER_ROLE_TABLE,
    resources.ROLE_BINDING.plural: ROLE_BINDING_TABLE,
    resources.CLUSTER_ROLE_BINDING.plural: CLUSTER_ROLE_BINDING_TABLE,
    resources.DAEMON_SET.plural: DAEMON_SET_TABLE,
    resources.STATEFUL_SET.plural: STATEFUL_SET_TABLE,
    resources.CONTROLLER_REVISION.plural: CONTROLLER_REVISION_TABLE,
    resources.CRON_JOB.plural: CRON_JOB_TABLE,
    resources.POD_DISRUPTION_BUDGET.plural: POD_DISRUPTION_BUDGET_TABLE,
    resources.CERTIFICATE_SIGNING_REQUEST.plural: CERTIFICATE_SIGNING_REQUEST_TABLE,
    resources.PRIORITY_CLASS.plural: PRIORITY_CLASS_TABLE,
    resources.RUNTIME_CLASS.plural: RUNTIME_CLASS_TABLE,
    resources.CUSTOM_RESOURCE_DEFINITION.plural: CUSTOM_RESOURCE_DEFINITION_TABLE,
    resources.API_SERVICE.plural: API_SERVICE_TABLE,
    resources.MUTATING_WEBHOOK_CONFIGURATION.plural: MUTATING_WEBHOOK_CONFIGURATION_TABLE,
    resources.VALIDATING_WEBHOOK_CONFIGURATION.plural: VALIDATING_WEBHOOK_CONFIGURATION_TABLE,
    resources.VALIDATING_ADMISSION_POLICY.plural: VALIDATING_ADMISSION_POLICY_TABLE,
    resources.VALIDATING_ADMISSION_POLICY_BINDING.plural: VALIDATING_ADMISSION_POLICY_BINDING_TABLE,
}


# The tables of the other served versions of built-in kinds, by (apiVersion, plural).
_VERSION_TABLES: dict[tuple[str, str], TableSpec[Any]] = {
    (
        resources.HORIZONTAL_POD_AUTOSCALER_V1.api_version,
        resources.HORIZONTAL_POD_AUTOSCALER_V1.plural,
    ): HORIZONTAL_POD_AUTOSCALER_V1_TABLE,
    (resources.EVENT_V1.api_version, resources.EVENT_V1.plural): EVENTS_V1_TABLE,
}


def table_for(resource: Resource[M] | ComputedResource[M]) -> TableSpec[M]:
    if isinstance(resource, ComputedResource):  # componentstatuses, the one computed kind
        return cast("TableSpec[M]", COMPONENT_STATUS_TABLE)
    other = _VERSION_TABLES.get((resource.api_version, resource.plural))
    table: TableSpec[M] = other if other is not None else _TABLES[resource.plural]
    return table
