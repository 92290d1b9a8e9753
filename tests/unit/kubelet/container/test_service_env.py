"""The Services a container learns of through its environment (pkg/kubelet/envvars and the
kubelet's getServiceEnvVarMap): which Services, which variables, in which order, and how they mix
with the container's own env."""

from __future__ import annotations

from typing import Any

import pytest

from kubelet.container.env import ContainerConfigError, PodContext, container_env
from kubelet.container.service_env import pod_service_env, service_env_map
from podplane.api.core.v1 import core_pb2, service_pb2
from podplane.api.meta.v1 import meta_pb2


def service(
    name: str, namespace: str = "shop", ip: str = "10.96.0.50", *ports: tuple[str, int, str]
) -> service_pb2.Service:
    return service_pb2.Service(
        metadata=meta_pb2.ObjectMeta(name=name, namespace=namespace),
        spec=service_pb2.ServiceSpec(
            cluster_ip=ip,
            cluster_ips=[ip] if ip not in ("", "None") else [],
            ports=[
                service_pb2.ServicePort(name=n, port=p, protocol=proto)
                for n, p, proto in (ports or (("", 80, "TCP"),))
            ],
        ),
    )


KUBERNETES = service("kubernetes", "default", "10.96.0.1", ("https", 443, "TCP"))


class Lister:
    def __init__(self, *services: service_pb2.Service, synced: bool = True) -> None:
        self.services = list(services)
        self.has_synced = synced

    def list(self) -> list[service_pb2.Service]:
        return self.services


def pod(namespace: str = "shop", links: bool | None = None, **meta: Any) -> core_pb2.Pod:
    spec = core_pb2.PodSpec(containers=[core_pb2.Container(name="c")])
    if links is not None:
        spec.enable_service_links = links
    return core_pb2.Pod(
        metadata=meta_pb2.ObjectMeta(name="p", namespace=namespace, **meta), spec=spec
    )


def test_variables_of_one_service_as_kubernetes_names_them() -> None:
    web = service("web-front", "shop", "10.96.0.50", ("http", 80, "TCP"), ("dns", 53, "UDP"))
    assert list(service_env_map([web], "shop", True).items()) == [
        ("WEB_FRONT_SERVICE_HOST", "10.96.0.50"),
        ("WEB_FRONT_SERVICE_PORT", "80"),
        ("WEB_FRONT_SERVICE_PORT_HTTP", "80"),
        ("WEB_FRONT_SERVICE_PORT_DNS", "53"),
        ("WEB_FRONT_PORT", "tcp://10.96.0.50:80"),
        ("WEB_FRONT_PORT_80_TCP", "tcp://10.96.0.50:80"),
        ("WEB_FRONT_PORT_80_TCP_PROTO", "tcp"),
        ("WEB_FRONT_PORT_80_TCP_PORT", "80"),
        ("WEB_FRONT_PORT_80_TCP_ADDR", "10.96.0.50"),
        ("WEB_FRONT_PORT_53_UDP", "udp://10.96.0.50:53"),
        ("WEB_FRONT_PORT_53_UDP_PROTO", "udp"),
        ("WEB_FRONT_PORT_53_UDP_PORT", "53"),
        ("WEB_FRONT_PORT_53_UDP_ADDR", "10.96.0.50"),
    ]


def test_ipv6_cluster_ip_is_bracketed_in_urls() -> None:
    got = service_env_map([service("web", "shop", "fd00::50")], "shop", True)
    assert got["WEB_PORT"] == "tcp://[fd00::50]:80"
    assert got["WEB_SERVICE_HOST"] == "fd00::50"


@pytest.mark.parametrize(
    ("services", "namespace", "links", "hosts"),
    [
        # The pod's namespace's Services with a cluster IP, and always `kubernetes` of default.
        (
            [KUBERNETES, service("web"), service("db", ip="10.96.0.51")],
            "shop",
            True,
            {"KUBERNETES": "10.96.0.1", "WEB": "10.96.0.50", "DB": "10.96.0.51"},
        ),
        # Other namespaces' Services are not the pod's.
        ([KUBERNETES, service("web", "other")], "shop", True, {"KUBERNETES": "10.96.0.1"}),
        # Headless and ExternalName Services have no address to give.
        (
            [service("headless", ip="None"), service("ext", ip="")],
            "shop",
            True,
            {},
        ),
        # enableServiceLinks: false keeps only the master service.
        ([KUBERNETES, service("web")], "shop", False, {"KUBERNETES": "10.96.0.1"}),
        # In `default` itself, with links, every Service there.
        (
            [KUBERNETES, service("web", "default")],
            "default",
            True,
            {"KUBERNETES": "10.96.0.1", "WEB": "10.96.0.50"},
        ),
        # A Service named kubernetes in the pod's namespace wins over default's.
        (
            [KUBERNETES, service("kubernetes", "shop", "10.96.0.99")],
            "shop",
            True,
            {"KUBERNETES": "10.96.0.99"},
        ),
    ],
)
def test_which_services(
    services: list[service_pb2.Service], namespace: str, links: bool, hosts: dict[str, str]
) -> None:
    got = service_env_map(services, namespace, links)
    assert {k.removesuffix("_SERVICE_HOST"): v for k, v in got.items() if k.endswith("_HOST")} == (
        hosts
    )


def test_links_enabled_unless_the_pod_says_false() -> None:
    lister = Lister(KUBERNETES, service("web"))
    assert "WEB_SERVICE_HOST" in pod_service_env(pod(), lister)
    assert "WEB_SERVICE_HOST" in pod_service_env(pod(links=True), lister)
    off = pod_service_env(pod(links=False), lister)
    assert "WEB_SERVICE_HOST" not in off and off["KUBERNETES_SERVICE_HOST"] == "10.96.0.1"


def test_api_pod_waits_until_services_were_read() -> None:
    with pytest.raises(ContainerConfigError, match="services have not yet been read"):
        pod_service_env(pod(), Lister(synced=False))
    # A static pod does not: the node may have no apiserver yet.
    static = pod(annotations={"kubernetes.io/config.source": "file"})
    assert pod_service_env(static, Lister(synced=False)) == {}
    assert pod_service_env(pod(), None) == {}


def test_container_env_wins_and_may_refer_to_service_variables() -> None:
    container = core_pb2.Container(
        name="c",
        env=[
            core_pb2.EnvVar(name="WEB_SERVICE_PORT", value="8080"),
            core_pb2.EnvVar(name="URL", value="http://$(WEB_SERVICE_HOST):$(WEB_SERVICE_PORT)"),
        ],
    )
    p = pod()
    p.spec.containers[0].CopyFrom(container)
    ctx = PodContext(service_env=service_env_map([service("web")], "shop", True))
    env = container_env(p, container, ctx)
    names = [k for k, _ in env]
    # The container's own first, in its order, then the Services' it does not define.
    assert names[:2] == ["WEB_SERVICE_PORT", "URL"]
    assert dict(env)["WEB_SERVICE_PORT"] == "8080"
    assert dict(env)["URL"] == "http://10.96.0.50:8080"
    assert names.count("WEB_SERVICE_PORT") == 1 and "WEB_PORT_80_TCP_ADDR" in names
