"""The components ComponentStatus probes (podplane's own flags): the scheduler's and the
controller-manager's health endpoints. kube-apiserver probes fixed localhost ports
(https://127.0.0.1:10259/healthz, https://127.0.0.1:10257/healthz), which reach them only when
they share its host; podplane's components run in containers of their own, so their URLs are
flags. The defaults are the localhost ones of podplane's health endpoints (/healthz beside each
component's /metrics)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from urllib.parse import urlsplit

from apiserver.registry.componentstatus.rest import ComponentStatuses
from apiserver.registry.componentstatus.servers import component_servers
from apiserver.storage.etcd import EtcdClient
from podplane.apimachinery import resources

DEFAULT_SCHEDULER_URL = "http://127.0.0.1:10251/healthz"
DEFAULT_CONTROLLER_MANAGER_URL = "http://127.0.0.1:10252/healthz"


@dataclass(frozen=True)
class ComponentStatusOptions:
    scheduler_url: str = DEFAULT_SCHEDULER_URL
    controller_manager_url: str = DEFAULT_CONTROLLER_MANAGER_URL

    def computed_apis(self, etcd: EtcdClient) -> dict[str, ComponentStatuses]:
        """The computed kinds' verbs, by plural: componentstatuses over these servers and
        every etcd server `etcd` reaches."""
        servers = component_servers(self.scheduler_url, self.controller_manager_url, etcd)
        return {resources.COMPONENT_STATUS.plural: ComponentStatuses(servers)}


def add_flags(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("component statuses")
    g.add_argument(
        "--componentstatus-scheduler-url",
        default=DEFAULT_SCHEDULER_URL,
        help="the scheduler's health endpoint, which ComponentStatus scheduler probes",
    )
    g.add_argument(
        "--componentstatus-controller-manager-url",
        default=DEFAULT_CONTROLLER_MANAGER_URL,
        help="the controller-manager's health endpoint, which ComponentStatus "
        "controller-manager probes",
    )


def validate(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Sets args.component_status; a URL that is not http(s)://HOST... ends the start."""
    for flag, url in (
        ("--componentstatus-scheduler-url", args.componentstatus_scheduler_url),
        ("--componentstatus-controller-manager-url", args.componentstatus_controller_manager_url),
    ):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            parser.error(f"{flag}: {url!r} is not an http:// or https:// URL")
    args.component_status = ComponentStatusOptions(
        args.componentstatus_scheduler_url, args.componentstatus_controller_manager_url
    )
