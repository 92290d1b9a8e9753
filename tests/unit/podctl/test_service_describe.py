"""`describe service`, `describe endpoints` and `describe endpointslice` print kubectl's layouts
(describeService with the ready endpoints of each port, describeEndpoints,
describeEndpointSliceV1)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from podctl.describe.service import (
    describe_endpoint_slice,
    describe_endpoints,
    describe_service,
)
from tests.unit.machinery.printers.samples import ENDPOINT_SLICE, ENDPOINTS, SERVICE

NOW = datetime(2026, 11, 21, 15, 10, 0, tzinfo=UTC)


def test_describe_service() -> None:
    svc = type(SERVICE)()
    svc.CopyFrom(SERVICE)
    svc.spec.ip_family_policy = "SingleStack"
    svc.spec.ip_families.append("IPv4")
    svc.spec.session_affinity = "None"
    svc.spec.external_traffic_policy = "Cluster"
    svc.spec.internal_traffic_policy = "Cluster"
    assert describe_service(svc, [ENDPOINT_SLICE], [], NOW).splitlines() == [
        "Name:                     web",
        "Namespace:                default",
        "Labels:                   <none>",
        "Annotations:              <none>",
        "Selector:                 app=web,tier=front",
        "Type:                     NodePort",
        "IP Family Policy:         SingleStack",
        "IP Families:              IPv4",
        "IP:                       10.96.12.34",
        "IPs:                      10.96.12.34",
        "Port:                     http  80/TCP",
        "TargetPort:               8080/TCP",
        "NodePort:                 http  30080/TCP",
        "Endpoints:                10.244.1.5:8080,10.244.2.7:8080,10.244.4.2:8080",
        "Port:                     dns  53/UDP",
        "TargetPort:               53/UDP",
        "NodePort:                 dns  30053/UDP",
        "Endpoints:                ",
        "Session Affinity:         None",
        "External Traffic Policy:  Cluster",
        "Internal Traffic Policy:  Cluster",
        "Events:                   <none>",
    ]


def test_describe_service_without_slices() -> None:
    text = describe_service(SERVICE, [], None, NOW)
    assert re.search(r"^Endpoints:\s+<none>$", text, re.M) and "Events:" not in text


def test_describe_endpoints() -> None:
    assert describe_endpoints(ENDPOINTS, None, NOW).splitlines() == [
        "Name:         web",
        "Namespace:    default",
        "Labels:       <none>",
        "Annotations:  <none>",
        "Subsets:",
        "  Addresses:          10.244.1.5,10.244.2.7",
        "  NotReadyAddresses:  10.244.3.9",
        "  Ports:",
        "    Name  Port  Protocol",
        "    ----  ----  --------",
        "    http  8080  TCP",
        "    dns   53    UDP",
        "",
    ]


def test_describe_endpoint_slice() -> None:
    lines = describe_endpoint_slice(ENDPOINT_SLICE, None, NOW).splitlines()
    assert lines[:12] == [
        "Name:         web-x7k2p",
        "Namespace:    default",
        "Labels:       kubernetes.io/service-name=web",
        "Annotations:  <none>",
        "AddressType:  IPv4",
        "Ports:",
        "  Name  Port  Protocol",
        "  ----  ----  --------",
        "  http  8080  TCP",
        "Endpoints:",
        "  - Addresses:  10.244.1.5",
        "    Conditions:",
    ]
    assert lines[12:16] == [
        "      Ready:    true",
        "    Hostname:   <unset>",
        "    NodeName:   <unset>",
        "    Zone:       <unset>",
    ]
