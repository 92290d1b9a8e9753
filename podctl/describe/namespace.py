"""`describe namespace`: kubectl's describeNamespace layout (podplane has no quotas or limit
ranges)."""

from __future__ import annotations

from podctl.describe.common import write_annotations, write_labels
from podctl.describe.writer import LEVEL_0, PrefixWriter
from podplane.api.core.v1 import core_pb2


def describe_namespace(namespace: core_pb2.Namespace) -> str:
    w = PrefixWriter()
    w.write(LEVEL_0, f"Name:\t{namespace.metadata.name}\n")
    write_labels(w, "Labels", namespace.metadata.labels)
    write_annotations(w, "Annotations", namespace.metadata.annotations)
    w.write(LEVEL_0, f"Status:\t{namespace.status.phase}\n")
    w.write(LEVEL_0, "\nNo resource quota.\n")
    w.write(LEVEL_0, "\nNo LimitRange resource.\n")
    return w.text()
