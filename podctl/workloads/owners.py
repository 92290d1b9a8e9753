"""Controllers and what they own: an object's controller reference, a controller's selector as the
label query that finds what it may own (kubectl's polymorphichelpers SelectorsForObject), and a
pod template without the hash label a deployment's controller adds to tell its replica sets apart."""
from __future__ import annotations

from typing import Any

from podctl.printers.table import format_labels
from podctl.printers.workloads import format_label_selector

# The label a deployment's controller adds to tell its replica sets' templates apart.
POD_TEMPLATE_HASH_LABEL = "pod-template-hash"


def controller_of(obj: Any) -> Any | None:
    """The owner reference marked as the object's controller, if any."""
    for ref in obj.metadata.owner_references:
        if ref.HasField("controller") and ref.controller:
            return ref
    return None


def controlled_by(obj: Any, owner_uid: str) -> bool:
    ref = controller_of(obj)
    return ref is not None and ref.uid == owner_uid


def label_query(obj: Any) -> str:
    """The controller's selector as a list request's labelSelector ("" for none): what to list to
    find the pods (or replica sets) it may control."""
    selector = obj.spec.selector
    if hasattr(selector, "match_labels"):
        text = format_label_selector(selector)
    else:
        text = format_labels(selector)
    return "" if text == "<none>" else text


def template_without_hash(template: Any) -> Any:
    copy = type(template)()
    copy.CopyFrom(template)
    copy.metadata.labels.pop(POD_TEMPLATE_HASH_LABEL, None)
    return copy
