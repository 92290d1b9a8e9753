"""A container's environment (kubelet_pods.go makeEnvironmentVariables): envFrom, then env with
the downward API and ConfigMap/Secret keys, and the $(VAR) expansion Kubernetes applies to env
values, command and args (kubernetes third_party/forked/golang/expansion)."""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

import grpc

from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import quantity
from podplane.client.clientset import Client, is_not_found


class ContainerConfigError(Exception):
    """The container cannot be configured as specified (CreateContainerConfigError)."""


class ConfigObjectGetter(Protocol):
    """Where the kubelet reads the ConfigMaps and Secrets its pods name (Kubernetes' configmap and
    secret managers); None when the object does not exist."""

    async def config_map(self, namespace: str, name: str) -> core_pb2.ConfigMap | None: ...

    async def secret(self, namespace: str, name: str) -> core_pb2.Secret | None: ...


class ClientObjectGetter:
    """Reads them from the apiserver, one Get each time (the "Get" change-detection strategy)."""

    def __init__(self, client: Client) -> None:
        self.client = client

    async def config_map(self, namespace: str, name: str) -> core_pb2.ConfigMap | None:
        try:
            return await self.client.configmaps.get(name, namespace)
        except grpc.aio.AioRpcError as e:
            if is_not_found(e):
                return None
            raise ContainerConfigError(f'failed to get configmap "{name}": {e.details()}') from e

    async def secret(self, namespace: str, name: str) -> core_pb2.Secret | None:
        try:
            return await self.client.secrets.get(name, namespace)
        except grpc.aio.AioRpcError as e:
            if is_not_found(e):
                return None
            raise ContainerConfigError(f'failed to get secret "{name}": {e.details()}') from e


@dataclass(frozen=True)
class ConfigObjects:
    """The ConfigMaps and Secrets of the pod's namespace that the pod names, by name; one that
    does not exist is absent."""

    config_maps: Mapping[str, core_pb2.ConfigMap] = field(default_factory=dict)
    secrets: Mapping[str, core_pb2.Secret] = field(default_factory=dict)


def referenced_names(pod: core_pb2.Pod) -> tuple[set[str], set[str]]:
    """(ConfigMap names, Secret names) the pod's env, envFrom and volumes refer to."""
    config_maps: set[str] = set()
    secrets: set[str] = set()
    for c in [*pod.spec.init_containers, *pod.spec.containers]:
        for source in c.env_from:
            if source.HasField("config_map_ref"):
                config_maps.add(source.config_map_ref.name)
            if source.HasField("secret_ref"):
                secrets.add(source.secret_ref.name)
        for var in c.env:
            if var.value_from.HasField("config_map_key_ref"):
                config_maps.add(var.value_from.config_map_key_ref.name)
            if var.value_from.HasField("secret_key_ref"):
                secrets.add(var.value_from.secret_key_ref.name)
    for volume in pod.spec.volumes:
        if volume.HasField("config_map"):
            config_maps.add(volume.config_map.name)
        if volume.HasField("secret"):
            secrets.add(volume.secret.secret_name)
        for projection in volume.projected.sources:
            if projection.HasField("config_map"):
                config_maps.add(projection.config_map.name)
            if projection.HasField("secret"):
                secrets.add(projection.secret.name)
    return config_maps, secrets


async def fetch_pod_objects(getter: ConfigObjectGetter | None, pod: core_pb2.Pod) -> ConfigObjects:
    """Reads every ConfigMap and Secret the pod refers to, afresh (so a container started after
    one was created or changed sees it). Without a getter, none exists."""
    if getter is None:
        return ConfigObjects()
    namespace = pod.metadata.namespace
    cm_names, secret_names = (sorted(n) for n in referenced_names(pod))
    cms = await asyncio.gather(*(getter.config_map(namespace, n) for n in cm_names))
    secrets = await asyncio.gather(*(getter.secret(namespace, n) for n in secret_names))
    return ConfigObjects(
        config_maps={n: cm for n, cm in zip(cm_names, cms, strict=True) if cm is not None},
        secrets={n: s for n, s in zip(secret_names, secrets, strict=True) if s is not None},
    )


@dataclass(frozen=True)
class PodContext:
    """What env references resolve against, besides the pod itself: the downward API's IPs and
    the node's allocatable, and the ConfigMaps and Secrets the pod names (fetched beforehand,
    see fetch_pod_objects; an absent one is "not found")."""

    pod_ip: str = ""
    host_ip: str = ""
    node_allocatable: Mapping[str, str] = field(default_factory=dict)
    objects: ConfigObjects = field(default_factory=ConfigObjects)
    # The Services' variables (service_env.pod_service_env): env values may refer to them, and
    # those the container does not define itself are added after its own.
    service_env: Mapping[str, str] = field(default_factory=dict)


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
            name = value[i + 2 : end]
            out.append(env[name] if name in env else value[i : end + 1])
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


def resource_ref_value(
    container: core_pb2.Container, ref: core_pb2.ResourceFieldSelector, ctx: PodContext
) -> str:
    """A limit or request in units of the divisor, rounded up; an unset limit is the node's
    allocatable, as Kubernetes reports it."""
    kind, _, resource = ref.resource.partition(".")
    if kind not in ("limits", "requests") or not resource:
        raise ContainerConfigError(f'unsupported resourceFieldRef resource "{ref.resource}"')
    values = container.resources.limits if kind == "limits" else container.resources.requests
    raw = values.get(resource) or (
        ctx.node_allocatable.get(resource, "0") if kind == "limits" else "0"
    )
    try:
        divisor = quantity.parse(ref.divisor or "1")
        amount = quantity.parse(raw)
    except quantity.QuantityError as e:
        raise ContainerConfigError(f"resourceFieldRef: {e}") from e
    if divisor <= 0:
        raise ContainerConfigError(f'resourceFieldRef divisor "{ref.divisor}" must be positive')
    return str(math.ceil(amount / divisor / Decimal(1)))


def _valid_env_name(name: str) -> bool:
    # Kubernetes (since 1.30) accepts any printable ASCII except "="; keys that are not valid
    # are skipped, as the kubelet does (it records an InvalidEnvironmentVariableNames event).
    return bool(name) and "=" not in name and all(" " <= ch <= "~" for ch in name)


def _env_from(
    pod: core_pb2.Pod, source: core_pb2.EnvFromSource, objects: ConfigObjects
) -> dict[str, str]:
    if source.HasField("config_map_ref"):
        cm_ref = source.config_map_ref
        cm = objects.config_maps.get(cm_ref.name)
        if cm is None:
            if cm_ref.optional:
                return {}
            raise ContainerConfigError(f'configmap "{cm_ref.name}" not found')
        data = {**{k: v.decode("utf-8", "replace") for k, v in cm.binary_data.items()}, **cm.data}
    elif source.HasField("secret_ref"):
        s_ref = source.secret_ref
        secret = objects.secrets.get(s_ref.name)
        if secret is None:
            if s_ref.optional:
                return {}
            raise ContainerConfigError(f'secret "{s_ref.name}" not found')
        data = {k: v.decode("utf-8", "replace") for k, v in secret.data.items()}
    else:
        return {}
    return {
        source.prefix + k: v for k, v in sorted(data.items()) if _valid_env_name(source.prefix + k)
    }


def _key_ref_value(
    pod: core_pb2.Pod, vf: core_pb2.EnvVarSource, objects: ConfigObjects
) -> str | None:
    """The value of a configMapKeyRef / secretKeyRef; None when it is optional and missing."""
    namespace = pod.metadata.namespace
    if vf.HasField("config_map_key_ref"):
        cm_ref = vf.config_map_key_ref
        cm = objects.config_maps.get(cm_ref.name)
        if cm is None:
            if cm_ref.optional:
                return None
            raise ContainerConfigError(f'configmap "{cm_ref.name}" not found')
        if cm_ref.key in cm.data:
            return cm.data[cm_ref.key]
        if cm_ref.key in cm.binary_data:
            return cm.binary_data[cm_ref.key].decode("utf-8", "replace")
        if cm_ref.optional:
            return None
        raise ContainerConfigError(
            f"couldn't find key {cm_ref.key} in ConfigMap {namespace}/{cm_ref.name}"
        )
    s_ref = vf.secret_key_ref
    secret = objects.secrets.get(s_ref.name)
    if secret is None:
        if s_ref.optional:
            return None
        raise ContainerConfigError(f'secret "{s_ref.name}" not found')
    if s_ref.key in secret.data:
        return secret.data[s_ref.key].decode("utf-8", "replace")
    if s_ref.optional:
        return None
    raise ContainerConfigError(f"couldn't find key {s_ref.key} in Secret {namespace}/{s_ref.name}")


def container_env(
    pod: core_pb2.Pod, container: core_pb2.Container, ctx: PodContext
) -> list[tuple[str, str]]:
    """The container's variables in order: envFrom sources first (a later one wins), then env
    (which wins over envFrom), then the Services' variables it does not define itself; each env
    value may refer to the variables before it and to the Services' variables."""
    resolved: dict[str, str] = {}
    for source in container.env_from:
        resolved.update(_env_from(pod, source, ctx.objects))
    for var in container.env:
        if var.HasField("value_from"):
            vf = var.value_from
            if vf.HasField("field_ref"):
                value = field_ref_value(pod, vf.field_ref.field_path, ctx)
            elif vf.HasField("resource_field_ref"):
                value = resource_ref_value(container, vf.resource_field_ref, ctx)
            elif vf.HasField("config_map_key_ref") or vf.HasField("secret_key_ref"):
                found = _key_ref_value(pod, vf, ctx.objects)
                if found is None:
                    continue
                value = found
            else:
                value = ""
        else:
            value = expand(var.value, {**ctx.service_env, **resolved})
        resolved[var.name] = value
    services = [(k, v) for k, v in ctx.service_env.items() if k not in resolved]
    return list(resolved.items()) + services
