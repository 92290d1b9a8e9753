"""The role and binding tables, as printRole, printClusterRole, printRoleBinding and
printClusterRoleBinding."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from podplane.api.rbac.v1 import rbac_pb2
from podplane.apimachinery.timeutil import human_age, parse
from podplane.printers.spec import (
    CREATION_TIMESTAMP_DOC,
    Cell,
    Column,
    TableSpec,
    age_column,
    name_column,
)


def created_at(value: str) -> str:
    """convertToHumanReadableDateType: the creation time in RFC 3339, UTC."""
    t = parse(value)
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if t else "<unknown>"


def role_row(role: rbac_pb2.Role | rbac_pb2.ClusterRole, now: datetime) -> list[Cell]:
    return [role.metadata.name, created_at(role.metadata.creation_timestamp)]


def subjects_strings(subjects: Sequence[rbac_pb2.Subject]) -> tuple[str, str, str]:
    """rbac.SubjectsStrings, joined: the users, the groups and the service accounts
    (namespace/name)."""
    users = [s.name for s in subjects if s.kind == "User"]
    groups = [s.name for s in subjects if s.kind == "Group"]
    sas = [f"{s.namespace}/{s.name}" for s in subjects if s.kind == "ServiceAccount"]
    return ", ".join(users), ", ".join(groups), ", ".join(sas)


def binding_row(
    binding: rbac_pb2.RoleBinding | rbac_pb2.ClusterRoleBinding, now: datetime
) -> list[Cell]:
    ref = binding.role_ref
    return [
        binding.metadata.name,
        f"{ref.kind}/{ref.name}",
        human_age(binding.metadata.creation_timestamp, now),
        *subjects_strings(binding.subjects),
    ]


def _role_table() -> TableSpec[rbac_pb2.Role | rbac_pb2.ClusterRole]:
    return TableSpec(
        columns=(name_column(), Column("Created At", "date", CREATION_TIMESTAMP_DOC)),
        row=role_row,
    )


def _binding_table(
    kind: str, role_ref_doc: str
) -> TableSpec[rbac_pb2.RoleBinding | rbac_pb2.ClusterRoleBinding]:
    return TableSpec(
        columns=(
            name_column(),
            Column("Role", "string", role_ref_doc),
            age_column(),
            Column("Users", "string", f"Users in the {kind}", priority=1),
            Column("Groups", "string", f"Groups in the {kind}", priority=1),
            Column("ServiceAccounts", "string", f"ServiceAccounts in the {kind}", priority=1),
        ),
        row=binding_row,
    )


ROLE_TABLE = _role_table()
CLUSTER_ROLE_TABLE = _role_table()
ROLE_BINDING_TABLE = _binding_table(
    "roleBinding",
    "RoleRef can reference a Role in the current namespace or a ClusterRole in the global "
    "namespace. If the RoleRef cannot be resolved, the Authorizer must return an error.",
)
CLUSTER_ROLE_BINDING_TABLE = _binding_table(
    "clusterRoleBinding",
    "RoleRef can only reference a ClusterRole in the global namespace. If the RoleRef cannot be "
    "resolved, the Authorizer must return an error.",
)
