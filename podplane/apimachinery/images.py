"""Image references, as the apiserver's defaulting and the kubelet's puller both read them."""

from __future__ import annotations


def default_pull_policy(image: str) -> str:
    """Always for ':latest' or an untagged image, else IfNotPresent (a digest counts as a tag)."""
    if "@" in image:
        return "IfNotPresent"
    last = image.rsplit("/", 1)[-1]
    if ":" not in last or last.endswith(":latest"):
        return "Always"
    return "IfNotPresent"
