"""The config map and secret tables, as kubectl's printConfigMap and printSecret."""

from __future__ import annotations

from datetime import datetime

from podctl.printers.table import Column, TableSpec
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery.timeutil import human_age


def config_map_row(cm: core_pb2.ConfigMap, now: datetime) -> list[str]:
    return [
        cm.metadata.name,
        str(len(cm.data) + len(cm.binary_data)),
        human_age(cm.metadata.creation_timestamp, now),
    ]


def secret_row(secret: core_pb2.Secret, now: datetime) -> list[str]:
    return [
        secret.metadata.name,
        secret.type,
        str(len(secret.data)),
        human_age(secret.metadata.creation_timestamp, now),
    ]


CONFIG_MAP_TABLE = TableSpec(
    columns=(Column("Name"), Column("Data"), Column("Age")), row=config_map_row
)
SECRET_TABLE = TableSpec(
    columns=(Column("Name"), Column("Type"), Column("Data"), Column("Age")), row=secret_row
)
