"""ConfigMap and Secret validation (kubernetes pkg/apis/core/validation: ValidateConfigMap,
ValidateSecret and their updates)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from apiserver.validation import fields
from apiserver.validation.fields import FieldError
from apiserver.validation.generic_rules import immutable
from apiserver.validation.meta import object_meta
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import json_text

MAX_DATA_BYTES = 1024 * 1024  # Kubernetes' MaxSecretSize, for ConfigMaps too
_CONFIG_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
CONFIG_KEY_MSG = (
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.' "
    "(e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is "
    "'[-._a-zA-Z0-9]+')"
)
IMMUTABLE_MSG = "field is immutable when `immutable` is set"

# Keys a Secret of a well-known type must have.
SERVICE_ACCOUNT_NAME_ANNOTATION = "kubernetes.io/service-account.name"
_REQUIRED_KEYS = {
    "kubernetes.io/dockercfg": (".dockercfg",),
    "kubernetes.io/dockerconfigjson": (".dockerconfigjson",),
    "kubernetes.io/ssh-auth": ("ssh-privatekey",),
    "kubernetes.io/tls": ("tls.crt", "tls.key"),
}
_JSON_KEYS = (".dockercfg", ".dockerconfigjson")


def config_key(path: str, key: str) -> list[FieldError]:
    """IsConfigMapKey: a file name a volume can hold."""
    errs: list[FieldError] = []
    if len(key) > 253:
        errs.append(fields.invalid(path, key, "must be no more than 253 characters"))
    if not _CONFIG_KEY.match(key):
        errs.append(fields.invalid(path, key, CONFIG_KEY_MSG))
    if key in (".", ".."):
        errs.append(fields.invalid(path, key, f"must not be '{key}'"))
    elif key.startswith(".."):
        errs.append(fields.invalid(path, key, "must not start with '..'"))
    return errs


def _keys(path: str, keys: Iterable[str]) -> list[FieldError]:
    return [e for key in sorted(keys) for e in config_key(f"{path}[{key}]", key)]


def _too_long(path: str, values: Iterable[str | bytes]) -> list[FieldError]:
    if sum(len(v) for v in values) > MAX_DATA_BYTES:
        return [
            fields.FieldError(path, "Too long", None, f"must have at most {MAX_DATA_BYTES} bytes")
        ]
    return []


def config_map(obj: core_pb2.ConfigMap) -> list[FieldError]:
    errs = object_meta(obj.metadata, namespaced=True)
    errs += _keys("data", obj.data) + _keys("binaryData", obj.binary_data)
    for key in sorted(set(obj.data) & set(obj.binary_data)):
        errs.append(fields.invalid(f"data[{key}]", key, "duplicate of key present in binaryData"))
    # Sizes in bytes, as Go's len() of a string.
    sizes = [v.encode() for v in obj.data.values()] + list(obj.binary_data.values())
    return errs + _too_long("data", sizes)


def _immutable_update(
    new: core_pb2.ConfigMap | core_pb2.Secret,
    old: core_pb2.ConfigMap | core_pb2.Secret,
    bags: Mapping[str, str],
) -> list[FieldError]:
    """Once `immutable` is true it stays true and the data bags (json name: field) cannot change."""
    if not (old.HasField("immutable") and old.immutable):
        return []
    errs: list[FieldError] = []
    if not (new.HasField("immutable") and new.immutable):
        errs.append(fields.forbidden("immutable", IMMUTABLE_MSG))
    for path, name in bags.items():
        if dict(getattr(new, name)) != dict(getattr(old, name)):
            errs.append(fields.forbidden(path, IMMUTABLE_MSG))
    return errs


def config_map_update(new: core_pb2.ConfigMap, old: core_pb2.ConfigMap) -> list[FieldError]:
    return config_map(new) + _immutable_update(
        new, old, {"data": "data", "binaryData": "binary_data"}
    )


def _typed_secret(obj: core_pb2.Secret) -> list[FieldError]:
    """The keys (or annotation) a well-known Secret type requires."""
    errs: list[FieldError] = []
    data = obj.data
    if obj.type == "kubernetes.io/service-account-token":
        if SERVICE_ACCOUNT_NAME_ANNOTATION not in obj.metadata.annotations:
            errs.append(fields.required(f"metadata.annotations[{SERVICE_ACCOUNT_NAME_ANNOTATION}]"))
    elif obj.type == "kubernetes.io/basic-auth":
        if "username" not in data and "password" not in data:
            errs += [fields.required("data[username]"), fields.required("data[password]")]
    for key in _REQUIRED_KEYS.get(obj.type, ()):
        if key not in data:
            errs.append(fields.required(f"data[{key}]"))
        elif key in _JSON_KEYS:
            try:
                json_text.loads(data[key])
            except ValueError as e:
                errs.append(fields.invalid(f"data[{key}]", "<secret contents redacted>", str(e)))
    return errs


def secret(obj: core_pb2.Secret) -> list[FieldError]:
    errs = object_meta(obj.metadata, namespaced=True)
    errs += _keys("data", obj.data)
    errs += _typed_secret(obj)
    return errs + _too_long("data", obj.data.values())


def secret_update(new: core_pb2.Secret, old: core_pb2.Secret) -> list[FieldError]:
    return (
        secret(new)
        + immutable("type", new.type, old.type)
        + _immutable_update(new, old, {"data": "data"})
    )
