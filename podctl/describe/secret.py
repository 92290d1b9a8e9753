"""`describe secret`: kubectl's describeSecret layout. The values are never shown, only each key's
size, so a describe pasted into a ticket or a terminal log leaks nothing."""

from __future__ import annotations

from podctl.describe.common import write_annotations, write_labels
from podctl.describe.writer import LEVEL_0, PrefixWriter
from podplane.api.core.v1 import core_pb2


def describe_secret(secret: core_pb2.Secret) -> str:
    w = PrefixWriter()
    w.write(LEVEL_0, f"Name:\t{secret.metadata.name}\n")
    w.write(LEVEL_0, f"Namespace:\t{secret.metadata.namespace}\n")
    write_labels(w, "Labels", secret.metadata.labels)
    write_annotations(w, "Annotations", secret.metadata.annotations)
    w.write(LEVEL_0, f"\nType:\t{secret.type}\n")
    w.write(LEVEL_0, "\nData\n====\n")
    sizes = {key: len(value) for key, value in secret.data.items()}
    sizes.update({key: len(value.encode()) for key, value in secret.string_data.items()})
    for key in sorted(sizes):
        w.write(LEVEL_0, f"{key}:\t{sizes[key]} bytes\n")
    return w.text()
