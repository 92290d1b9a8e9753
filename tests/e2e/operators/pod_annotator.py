"""A small kopf operator, run by tests/e2e/test_kopf_operator.py against the compose cluster
(`kopf run --standalone -A pod_annotator.py`): for every pod labelled podplane.e2e/kopf=watch, in
any namespace, it writes an annotation back (podplane.e2e/seen-by: kopf), posts an Event (reason
Seen) and prints `seen <namespace>/<name>` once."""

from __future__ import annotations

import sys
from typing import Any

import kopf

LABEL = "podplane.e2e/kopf"
ANNOTATION = "podplane.e2e/seen-by"


@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, **_: Any) -> None:
    # Pods have no place for kopf's progress in their status: keep it in annotations only.
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage()


@kopf.on.create("v1", "pods", labels={LABEL: "watch"})
def annotate(
    body: kopf.Body, name: str, namespace: str | None, patch: kopf.Patch, **_: Any
) -> None:
    # One write of the whole line: print() writes the text and its newline apart, and kopf's log
    # lines (written from the event loop's thread, this handler runs in an executor's) went in
    # between them ("seen ns/two[... kopf.objects ...]" on one line, the newline after it).
    sys.stdout.write(f"seen {namespace}/{name}\n")
    sys.stdout.flush()
    patch.metadata.annotations[ANNOTATION] = "kopf"
    kopf.info(body, reason="Seen", message=f"{ANNOTATION} written by the e2e operator")
