"""Defaults of configuration objects (pkg/apis/core/v1 defaults.go)."""

from __future__ import annotations

from podplane.api.core.v1 import core_pb2


def secret(obj: core_pb2.Secret) -> None:
    """stringData is write-only: merged over data (its values win), never stored."""
    for key, value in obj.string_data.items():
        obj.data[key] = value.encode()
    obj.ClearField("string_data")
    obj.type = obj.type or "Opaque"
