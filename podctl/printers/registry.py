"""Which table each resource prints as."""

from __future__ import annotations

from typing import Any, TypeVar

from google.protobuf.message import Message

from podctl.printers.config import CONFIG_MAP_TABLE, SECRET_TABLE
from podctl.printers.events import EVENT_TABLE
from podctl.printers.leases import LEASE_TABLE
from podctl.printers.namespaces import NAMESPACE_TABLE
from podctl.printers.nodes import NODE_TABLE
from podctl.printers.pods import POD_TABLE
from podctl.printers.table import TableSpec
from podctl.printers.workloads import (
    DEPLOYMENT_TABLE,
    JOB_TABLE,
    REPLICA_SET_TABLE,
    REPLICATION_CONTROLLER_TABLE,
)
from podplane.apimachinery import resources
from podplane.apimachinery.resources import Resource

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
}


def table_for(resource: Resource[M]) -> TableSpec[M]:
    table: TableSpec[M] = _TABLES[resource.plural]
    return table
