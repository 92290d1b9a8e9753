"""A container's environment from ConfigMaps, Secrets and the downward API: every fieldRef, the
resources, envFrom with prefixes, and what a missing object or key does (optional or not)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from kubelet.container.config import build_container_config, with_pod_objects
from kubelet.container.env import (
    ConfigObjects,
    ContainerConfigError,
    PodContext,
    container_env,
    fetch_pod_objects,
    referenced_names,
)
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from tests.unit.kubelet.podbuild import container, optional_field, pod

SETTINGS = core_pb2.ConfigMap(
    metadata=meta_pb2.ObjectMeta(name="settings"),
    data={"mode": "fast", "level": "3"},
    binary_data={"blob": b"bin"},
)
CREDS = core_pb2.Secret(
    metadata=meta_pb2.ObjectMeta(name="creds"), data={"user": b"admin", "password": b"s3cret"}
)
OBJECTS = ConfigObjects(config_maps={"settings": SETTINGS}, secrets={"creds": CREDS})


def cm_key(name: str, cm: str, key: str, optional: bool | None = None) -> core_pb2.EnvVar:
    return core_pb2.EnvVar(
        name=name,
        value_from=core_pb2.EnvVarSource(
            config_map_key_ref=core_pb2.ConfigMapKeySelector(
                name=cm, key=key, **optional_field(optional)
            )
        ),
    )


def secret_key(name: str, secret: str, key: str, optional: bool | None = None) -> core_pb2.EnvVar:
    return core_pb2.EnvVar(
        name=name,
        value_from=core_pb2.EnvVarSource(
            secret_key_ref=core_pb2.SecretKeySelector(
                name=secret, key=key, **optional_field(optional)
            )
        ),
    )


def field(name: str, path: str) -> core_pb2.EnvVar:
    return core_pb2.EnvVar(
        name=name,
        value_from=core_pb2.EnvVarSource(field_ref=core_pb2.ObjectFieldSelector(field_path=path)),
    )


def resource(name: str, res: str, divisor: str = "") -> core_pb2.EnvVar:
    return core_pb2.EnvVar(
        name=name,
        value_from=core_pb2.EnvVarSource(
            resource_field_ref=core_pb2.ResourceFieldSelector(resource=res, divisor=divisor)
        ),
    )


def env_of(
    *env: core_pb2.EnvVar,
    env_from: tuple[core_pb2.EnvFromSource, ...] = (),
    objects: ConfigObjects = OBJECTS,
    **container_fields: Any,
) -> dict[str, str]:
    c = container("a", env=list(env), env_from=list(env_from), **container_fields)
    p = pod(c, service_account_name="robot")
    p.metadata.labels["app"] = "web"
    p.metadata.annotations["team"] = "blue"
    ctx = PodContext(
        pod_ip="10.244.1.5",
        host_ip="172.18.0.2",
        node_allocatable={"cpu": "2", "memory": "4Gi"},
        objects=objects,
    )
    return dict(container_env(p, c, ctx))


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("metadata.name", "web"),
        ("metadata.namespace", "default"),
        ("metadata.uid", "uid-1"),
        ("metadata.labels['app']", "web"),
        ("metadata.labels['missing']", ""),
        ("metadata.annotations['team']", "blue"),
        ("spec.nodeName", "node-1"),
        ("spec.serviceAccountName", "robot"),
        ("status.podIP", "10.244.1.5"),
        ("status.hostIP", "172.18.0.2"),
    ],
)
def test_every_field_ref(path: str, expected: str) -> None:
    assert env_of(field("V", path)) == {"V": expected}


def test_an_unknown_field_ref_is_a_config_error() -> None:
    with pytest.raises(
        ContainerConfigError, match=re.escape('unsupported fieldRef fieldPath "spec.x"')
    ):
        env_of(field("V", "spec.x"))


@pytest.mark.parametrize(
    ("res", "divisor", "expected"),
    [
        ("limits.cpu", "", "1"),  # 500m rounded up to whole CPUs
        ("limits.cpu", "1m", "500"),
        ("limits.memory", "1Mi", "64"),
        ("requests.cpu", "1m", "250"),
        ("requests.memory", "", "0"),  # no request: 0
        ("limits.ephemeral-storage", "", "0"),
    ],
    ids=lambda v: str(v),
)
def test_resource_field_refs(res: str, divisor: str, expected: str) -> None:
    resources = core_pb2.ResourceRequirements(
        limits={"cpu": "500m", "memory": "64Mi"}, requests={"cpu": "250m"}
    )
    assert env_of(resource("V", res, divisor), resources=resources) == {"V": expected}


def test_an_unset_limit_is_the_node_allocatable() -> None:
    assert env_of(resource("CPU", "limits.cpu"), resource("MEM", "limits.memory", "1Gi")) == {
        "CPU": "2",
        "MEM": "4",
    }


def test_config_map_and_secret_keys() -> None:
    assert env_of(
        cm_key("MODE", "settings", "mode"),
        cm_key("BLOB", "settings", "blob"),
        secret_key("PW", "creds", "password"),
    ) == {"MODE": "fast", "BLOB": "bin", "PW": "s3cret"}


@pytest.mark.parametrize(
    ("var", "message"),
    [
        (cm_key("X", "nosuch", "k"), 'configmap "nosuch" not found'),
        (cm_key("X", "settings", "k"), "couldn't find key k in ConfigMap default/settings"),
        (secret_key("X", "nosuch", "k"), 'secret "nosuch" not found'),
        (secret_key("X", "creds", "k"), "couldn't find key k in Secret default/creds"),
        (cm_key("X", "settings", "k", optional=False), "couldn't find key k in ConfigMap"),
    ],
    ids=["configmap", "configmap key", "secret", "secret key", "optional: false"],
)
def test_a_missing_required_object_or_key_is_a_config_error(
    var: core_pb2.EnvVar, message: str
) -> None:
    with pytest.raises(ContainerConfigError, match=message):
        env_of(var)


def test_a_missing_optional_object_or_key_leaves_the_variable_out() -> None:
    assert env_of(
        cm_key("A", "nosuch", "k", optional=True),
        cm_key("B", "settings", "k", optional=True),
        secret_key("C", "nosuch", "k", optional=True),
        secret_key("D", "creds", "k", optional=True),
        core_pb2.EnvVar(name="E", value="$(A)"),
    ) == {"E": "$(A)"}


def from_cm(name: str, prefix: str = "", optional: bool | None = None) -> core_pb2.EnvFromSource:
    return core_pb2.EnvFromSource(
        prefix=prefix,
        config_map_ref=core_pb2.ConfigMapEnvSource(name=name, **optional_field(optional)),
    )


def from_secret(
    name: str, prefix: str = "", optional: bool | None = None
) -> core_pb2.EnvFromSource:
    return core_pb2.EnvFromSource(
        prefix=prefix, secret_ref=core_pb2.SecretEnvSource(name=name, **optional_field(optional))
    )


def test_env_from_with_prefixes_then_env_wins_and_expands_against_them() -> None:
    env = env_of(
        core_pb2.EnvVar(name="CFG_mode", value="slow $(DB_user)"),
        env_from=(from_cm("settings", "CFG_"), from_secret("creds", "DB_")),
    )
    assert env == {
        "CFG_blob": "bin",
        "CFG_level": "3",
        "CFG_mode": "slow admin",
        "DB_password": "s3cret",
        "DB_user": "admin",
    }


def test_env_from_a_missing_object() -> None:
    assert (
        env_of(env_from=(from_cm("nosuch", optional=True), from_secret("nosuch", optional=True)))
        == {}
    )
    with pytest.raises(ContainerConfigError, match='configmap "nosuch" not found'):
        env_of(env_from=(from_cm("nosuch"),))
    with pytest.raises(ContainerConfigError, match='secret "nosuch" not found'):
        env_of(env_from=(from_secret("nosuch"),))


def test_env_from_skips_keys_that_are_not_variable_names() -> None:
    cm = core_pb2.ConfigMap(data={"ok": "1", "a=b": "2"})
    assert env_of(env_from=(from_cm("odd"),), objects=ConfigObjects(config_maps={"odd": cm})) == {
        "ok": "1"
    }


class FakeGetter:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []

    async def config_map(self, namespace: str, name: str) -> core_pb2.ConfigMap | None:
        self.calls.append(("configmap", namespace, name))
        return SETTINGS if name == "settings" else None

    async def secret(self, namespace: str, name: str) -> core_pb2.Secret | None:
        self.calls.append(("secret", namespace, name))
        return CREDS if name == "creds" else None


def referring_pod() -> core_pb2.Pod:
    init = container("init", env=[secret_key("X", "creds", "user")])
    app = container(
        "app",
        env=[cm_key("M", "settings", "mode")],
        env_from=[from_cm("other", optional=True), from_secret("tls", optional=True)],
    )
    return pod(
        app,
        init=(init,),
        volumes=(
            core_pb2.Volume(name="v", config_map=core_pb2.ConfigMapVolumeSource(name="files")),
            core_pb2.Volume(name="s", secret=core_pb2.SecretVolumeSource(secret_name="keys")),
        ),
    )


def test_referenced_names_cover_env_env_from_and_volumes_of_every_container() -> None:
    assert referenced_names(referring_pod()) == (
        {"settings", "other", "files"},
        {"creds", "tls", "keys"},
    )


async def test_objects_are_read_in_the_pods_namespace_and_absent_when_missing() -> None:
    getter = FakeGetter()
    objects = await fetch_pod_objects(getter, referring_pod())
    assert set(objects.config_maps) == {"settings"} and set(objects.secrets) == {"creds"}
    assert {ns for _, ns, _ in getter.calls} == {"default"} and len(getter.calls) == 6
    assert await fetch_pod_objects(None, referring_pod()) == ConfigObjects()


async def test_the_container_config_carries_the_resolved_env() -> None:
    p = referring_pod()
    ctx = await with_pod_objects(PodContext(), FakeGetter(), p)
    config = build_container_config(p, p.spec.containers[0], 0, [], ctx)
    assert dict(config.env) == {"M": "fast"}
