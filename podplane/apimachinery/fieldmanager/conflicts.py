"""An apply's conflicts as Kubernetes reports them (managedfields' conflict.go): the 409's message
and one cause per field.

    Apply failed with 1 conflict: conflict with "kubectl-edit" using apps/v1: .spec.replicas
    Apply failed with 2 conflicts: conflicts with "other":
    - .spec.replicas
    - .spec.template.spec.containers[name="web"].image"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

from podplane.apimachinery.fieldmanager import fieldpath
from podplane.apimachinery.fieldmanager.managed import ManagerKey
from podplane.apimachinery.fieldmanager.updater import Conflict, Conflicts

# metav1.CauseTypeFieldManagerConflict
CAUSE_TYPE = "FieldManagerConflict"


@dataclass(frozen=True)
class ConflictCause:
    """A metav1.StatusCause of type FieldManagerConflict."""

    message: str
    field: str


def _printed(manager: Hashable) -> str:
    if isinstance(manager, ManagerKey):
        return manager.printed()
    return f'"{manager}"'


def _order(conflict: Conflict) -> str:
    manager = conflict.manager
    return manager.identifier() if isinstance(manager, ManagerKey) else str(manager)


def report(conflicts: Conflicts) -> tuple[str, list[ConflictCause]]:
    """The message and causes of the 409 Conflict an apply with these conflicts answers.
    (Kubernetes lists them in the order of a Go map: here, by manager, each manager's paths in
    the order its set lists them.)"""
    items = sorted(conflicts.conflicts, key=_order)
    causes = [
        ConflictCause(f"conflict with {_printed(c.manager)}", fieldpath.show(c.path)) for c in items
    ]
    if len(items) == 1:
        only = items[0]
        message = (
            f"Apply failed with 1 conflict: conflict with {_printed(only.manager)}: "
            f"{fieldpath.show(only.path)}"
        )
        return message, causes
    lines: list[str] = []
    current: Hashable | None = None
    for conflict in items:
        if conflict.manager != current:
            current = conflict.manager
            lines.append(f"conflicts with {_printed(current)}:")
        lines.append(f"- {fieldpath.show(conflict.path)}")
    return f"Apply failed with {len(items)} conflicts: " + "\n".join(lines), causes
