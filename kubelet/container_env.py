"""A container's environment and the $(VAR) expansion Kubernetes applies to env values, command and
args (kubernetes third_party/forked/golang/expansion)."""
from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from podplane import quantity
from podplane.api.core.v1 import core_pb2


class ContainerConfigError(Exception):
    """The container cannot be configured as specified (CreateContainerConfigError)."""


@dataclass(frozen=True)
class PodContext:
    """What downward-API references resolve against, besides the pod itself."""
    pod_ip: str = ""
    host_ip: str = ""
    node_allocatable: Mapping[str, str] = field(default_factory=dict)


def expand(value: str, env: Mapping[str, str]) -> str:
    """$(VAR) -> its value when VAR is defined, left as written otherwise; $$ -> $."""
    out: list[str] = []
    i, n = 0, len(value)
    while i < n:
        ch = value[i]
        if ch != "$" or i + 1 == n:
            out.append(ch)
            i += 1
            continue
        nxt = value[i + 1]
        if nxt == "$":
            out.append("$")
            i += 2
        elif nxt == "(":
            end = value.find(")", i + 2)
            if end < 0:  # unterminated: kept verbatim
                out.append(value[i:])
                break
            name = value[i + 2:end]
            out.append(env[name] if name in env else value[i:end + 1])
            i = end + 1
        else:
            out.append(ch)
            i += 1
    return "".join(out)


_LABEL_PATH = re.compile(r"^metadata\.(labels|annotations)\['([^']*)'\]$")


def field_ref_value(pod: core_pb2.Pod, path: str, ctx: PodContext) -> str:
    simple = {
        "metadata.name": pod.metadata.name,
        "metadata.namespace": pod.metadata.namespace,
        "metadata.uid": pod.metadata.uid,
        "spec.nodeName": pod.spec.node_name,
        "spec.serviceAccountName": pod.spec.service_account_name,
        "status.hostIP": ctx.host_ip,
        "status.hostIPs": ctx.host_ip,
        "status.podIP": ctx.pod_ip,
        "status.podIPs": ctx.pod_ip,
    }
    if path in simple:
        return simple[path]
    m = _LABEL_PATH.match(path)
    if m:
        source = pod.metadata.labels if m.group(1) == "labels" else pod.metadata.annotations
        return source.get(m.group(2), "")
    raise ContainerConfigError(f'unsupported fieldRef fieldPath "{path}"')


def resource_ref_value(container: core_pb2.Container, ref: core_pb2.ResourceFieldSelector,
                       ctx: PodContext) -> str:
    kind, _, resource = ref.resource.partition(".")
    if kind not in ("limits", "requests") or not resource:
        raise ContainerConfigError(f'unsupported resourceFieldRef resource "{ref.resource}"')
    values = container.resources.limits if kind == "limits" else container.resources.requests
    raw = values.get(resource) or ctx.node_allocatable.get(resource, "0")
    divisor = quantity.parse(ref.divisor or "1")
    if divisor <= 0:
        raise ContainerConfigError(f'resourceFieldRef divisor "{ref.divisor}" must be positive')
    return str(math.ceil(quantity.parse(raw) / divisor / Decimal(1)))


def container_env(pod: core_pb2.Pod, container: core_pb2.Container,
                  ctx: PodContext) -> list[tuple[str, str]]:
    """The container's variables in order; each value may refer to the ones before it."""
    resolved: dict[str, str] = {}
    # This API has no ConfigMaps or Secrets yet: a reference to one only works if it is optional.
    for source in container.env_from:
        ref = source.config_map_ref if source.HasField("config_map_ref") else source.secret_ref
        if not ref.optional:
            kind = "configmap" if source.HasField("config_map_ref") else "secret"
            raise ContainerConfigError(f'{kind} "{ref.name}" not found')
    for var in container.env:
        if var.HasField("value_from"):
            vf = var.value_from
            if vf.HasField("field_ref"):
                value = field_ref_value(pod, vf.field_ref.field_path, ctx)
            elif vf.HasField("resource_field_ref"):
                value = resource_ref_value(container, vf.resource_field_ref, ctx)
            elif vf.HasField("config_map_key_ref") or vf.HasField("secret_key_ref"):
                is_cm = vf.HasField("config_map_key_ref")
                key_ref = vf.config_map_key_ref if is_cm else vf.secret_key_ref
                if key_ref.optional:
                    continue
                kind = "configmap" if is_cm else "secret"
                raise ContainerConfigError(f'{kind} "{key_ref.name}" not found')
            else:
                value = ""
        else:
            value = expand(var.value, resolved)
        resolved[var.name] = value
    return list(resolved.items())
