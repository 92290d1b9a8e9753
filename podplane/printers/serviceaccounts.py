"""The service account table, as printServiceAccount: NAME SECRETS AGE."""

from __future__ import annotations

from datetime import datetime

from podplane.api.core.v1 import core_pb2
from podplane.apimachinery.timeutil import human_age
from podplane.printers.spec import Cell, Column, TableSpec, age_column, name_column


def service_account_row(sa: core_pb2.ServiceAccount, now: datetime) -> list[Cell]:
    return [sa.metadata.name, len(sa.secrets), human_age(sa.metadata.creation_timestamp, now)]


# SECRETS is typed "string" but its cells are integers, as Kubernetes declares and fills them.
SERVICE_ACCOUNT_TABLE = TableSpec(
    columns=(
        name_column(),
        Column(
            "Secrets",
            "string",
            "Secrets is a list of the secrets in the same namespace that pods running using this "
            "ServiceAccount are allowed to use. Pods are only limited to this list if this "
            'service account has a "kubernetes.io/enforce-mountable-secrets" annotation set to '
            '"true". This field should not be used to find auto-generated service account token '
            "secrets for use outside of pods. Instead, tokens can be requested directly using "
            "the TokenRequest API, or service account token secrets can be manually created. "
            "More info: https://kubernetes.io/docs/concepts/configuration/secret",
        ),
        age_column(),
    ),
    row=service_account_row,
)
