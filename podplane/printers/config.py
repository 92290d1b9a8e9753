"""The config map and secret tables, as printConfigMap and printSecret."""

from __future__ import annotations

from datetime import datetime

from podplane.api.core.v1 import core_pb2
from podplane.apimachinery.timeutil import human_age
from podplane.printers.spec import Cell, Column, TableSpec, age_column, name_column


def config_map_row(cm: core_pb2.ConfigMap, now: datetime) -> list[Cell]:
    return [
        cm.metadata.name,
        len(cm.data) + len(cm.binary_data),
        human_age(cm.metadata.creation_timestamp, now),
    ]


def secret_row(secret: core_pb2.Secret, now: datetime) -> list[Cell]:
    return [
        secret.metadata.name,
        secret.type,
        len(secret.data),
        human_age(secret.metadata.creation_timestamp, now),
    ]


# DATA is typed "string" but its cells are integers, as Kubernetes declares and fills them.
CONFIG_MAP_TABLE = TableSpec(
    columns=(
        name_column(),
        Column(
            "Data",
            "string",
            "Data contains the configuration data. Each key must consist of alphanumeric "
            "characters, '-', '_' or '.'. Values with non-UTF-8 byte sequences must use the "
            "BinaryData field. The keys stored in Data must not overlap with the keys in the "
            "BinaryData field, this is enforced during validation process.",
        ),
        age_column(),
    ),
    row=config_map_row,
)
SECRET_TABLE = TableSpec(
    columns=(
        name_column(),
        Column(
            "Type",
            "string",
            "Used to facilitate programmatic handling of secret data. More info: "
            "https://kubernetes.io/docs/concepts/configuration/secret/#secret-types",
        ),
        Column(
            "Data",
            "string",
            "Data contains the secret data. Each key must consist of alphanumeric characters, "
            "'-', '_' or '.'. The serialized form of the secret data is a base64 encoded "
            "string, representing the arbitrary (possibly non-string) data value here. "
            "Described in https://tools.ietf.org/html/rfc4648#section-4",
        ),
        age_column(),
    ),
    row=secret_row,
)
