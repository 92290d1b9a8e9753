"""A Kubernetes Container -> the runtime's config: command/args semantics, $(VAR) expansion, the
downward API in env, and resources."""

from __future__ import annotations

import pytest

from kubelet.container.config import build_container_config, command_and_args, resource_limits
from kubelet.container.env import ContainerConfigError, PodContext, container_env, expand
from podplane.api.core.v1 import core_pb2
from tests.unit.kubelet.podbuild import container, pod


@pytest.mark.parametrize(
    ("command", "args", "expected"),
    [
        ([], [], (None, None)),  # the image's ENTRYPOINT and CMD
        (["sh", "-c"], [], (["sh", "-c"], [])),  # command replaces ENTRYPOINT and drops CMD
        (["echo"], ["a", "b"], (["echo"], ["a", "b"])),
        ([], ["a", "b"], (None, ["a", "b"])),  # args replace CMD only
    ],
    ids=["neither", "command only", "both", "args only"],
)
def test_command_and_args(
    command: list[str], args: list[str], expected: tuple[list[str] | None, list[str] | None]
) -> None:
    c = container("a", command=command, args=args)
    assert command_and_args(c, {}) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("$(A)", "1"),
        ("x$(A)y$(B)", "x1y2"),
        ("$(MISSING)", "$(MISSING)"),
        ("$$(A)", "$(A)"),
        ("$$", "$"),
        ("$A", "$A"),
        ("$(A", "$(A"),
        ("trailing $", "trailing $"),
    ],
)
def test_expansion(value: str, expected: str) -> None:
    assert expand(value, {"A": "1", "B": "2"}) == expected


def test_env_values_refer_to_earlier_variables_and_the_downward_api() -> None:
    c = container(
        "a",
        env=[
            core_pb2.EnvVar(name="GREETING", value="hello"),
            core_pb2.EnvVar(name="MSG", value="$(GREETING) $(POD) $(LATER)"),
            field_env("POD", "metadata.name"),
            field_env("NS", "metadata.namespace"),
            field_env("UID", "metadata.uid"),
            field_env("IP", "status.podIP"),
            field_env("HOST", "status.hostIP"),
            field_env("NODE", "spec.nodeName"),
            core_pb2.EnvVar(name="LATER", value="x"),
        ],
    )
    p = pod(c)
    p.metadata.labels["app"] = "web"
    env = dict(container_env(p, c, PodContext(pod_ip="10.244.1.5", host_ip="172.18.0.2")))
    assert env == {
        "GREETING": "hello",
        "MSG": "hello $(POD) $(LATER)",
        "POD": "web",
        "NS": "default",
        "UID": "uid-1",
        "IP": "10.244.1.5",
        "HOST": "172.18.0.2",
        "NODE": "node-1",
        "LATER": "x",
    }


def field_env(name: str, path: str) -> core_pb2.EnvVar:
    return core_pb2.EnvVar(
        name=name,
        value_from=core_pb2.EnvVarSource(field_ref=core_pb2.ObjectFieldSelector(field_path=path)),
    )


def test_command_and_args_expand_against_the_environment() -> None:
    c = container(
        "a",
        command=["sh", "-c", "echo $(MSG)"],
        args=["$(POD_NAME)"],
        env=[core_pb2.EnvVar(name="MSG", value="hi"), field_env("POD_NAME", "metadata.name")],
    )
    config = build_container_config(pod(c), c, 0, [], PodContext())
    assert config.entrypoint == ["sh", "-c", "echo hi"] and config.cmd == ["web"]


def test_missing_configmap_is_a_config_error() -> None:
    c = container(
        "a",
        env=[
            core_pb2.EnvVar(
                name="X",
                value_from=core_pb2.EnvVarSource(
                    config_map_key_ref=core_pb2.ConfigMapKeySelector(name="settings", key="x")
                ),
            )
        ],
    )
    with pytest.raises(ContainerConfigError, match='configmap "settings" not found'):
        container_env(pod(c), c, PodContext())


def test_resources_map_to_memory_limit_nano_cpus_and_shares() -> None:
    c = container(
        "a",
        resources=core_pb2.ResourceRequirements(
            limits={"memory": "64Mi", "cpu": "500m"}, requests={"cpu": "250m"}
        ),
    )
    assert resource_limits(c) == (64 * 1024 * 1024, 500_000_000, 256)
    assert resource_limits(container("b")) == (None, None, 2)


def test_config_carries_pod_identity_and_grace_period() -> None:
    c = container("a", working_dir="/srv", tty=True)
    p = pod(c, termination_grace_period_seconds=5)
    config = build_container_config(p, c, 3, [], PodContext())
    assert (config.pod.uid, config.pod.name, config.pod.namespace) == ("uid-1", "web", "default")
    assert (config.restart_count, config.working_dir, config.tty) == (3, "/srv", True)
    assert config.termination_grace_seconds == 5
