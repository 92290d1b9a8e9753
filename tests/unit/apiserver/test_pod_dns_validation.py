"""spec.dnsPolicy and spec.dnsConfig as Kubernetes' validateDNSPolicy and validatePodDNSConfig word
their errors, and the defaults of dnsPolicy and enableServiceLinks, as tables of cases."""

from __future__ import annotations

from typing import Any

import pytest

from apiserver.defaulting import pod as pod_defaulting
from apiserver.validation import pod as pod_validation
from podplane.apimachinery import manifest


def make_pod(**spec: Any) -> Any:
    return manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {"containers": [{"name": "main", "image": "busybox"}], **spec},
        }
    )


def errors_of(**spec: Any) -> list[str]:
    obj = make_pod(**spec)
    pod_defaulting.pod(obj)
    return [str(e) for e in pod_validation.pod(obj)]


@pytest.mark.parametrize(
    "spec",
    [
        {},
        {"dnsPolicy": "Default"},
        {"dnsPolicy": "ClusterFirstWithHostNet", "hostNetwork": True},
        {"dnsPolicy": "None", "dnsConfig": {"nameservers": ["1.1.1.1"]}},
        {
            "dnsPolicy": "ClusterFirst",
            "dnsConfig": {
                "nameservers": ["10.0.0.53", "2001:db8::53"],
                "searches": ["corp.example.com", "example.com."],
                "options": [{"name": "ndots", "value": "2"}, {"name": "edns0"}],
            },
        },
        {"dnsConfig": {"searches": ["a" * 63] * 32}},
        {"enableServiceLinks": False},
    ],
)
def test_valid_dns_settings(spec: dict[str, Any]) -> None:
    assert errors_of(**spec) == []


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (
            {"dnsPolicy": "Cluster"},
            'spec.dnsPolicy: Unsupported value: "Cluster": supported values: '
            '"ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"',
        ),
        (
            {"dnsPolicy": "None"},
            "spec.dnsConfig: Required value: must provide `dnsConfig` when `dnsPolicy` is None",
        ),
        (
            {"dnsPolicy": "None", "dnsConfig": {"searches": ["example.com"]}},
            "spec.dnsConfig.nameservers: Required value: must provide at least one DNS "
            "nameserver when `dnsPolicy` is None",
        ),
        (
            {"dnsConfig": {"nameservers": ["1.1.1.1", "1.0.0.1", "8.8.8.8", "8.8.4.4"]}},
            'spec.dnsConfig.nameservers: Invalid value: []string{"1.1.1.1", "1.0.0.1", '
            '"8.8.8.8", "8.8.4.4"}: must not have more than 3 nameservers',
        ),
        (
            {"dnsConfig": {"nameservers": ["1.2.3.c"]}},
            'spec.dnsConfig.nameservers[0]: Invalid value: "1.2.3.c": must be a valid IP '
            "address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
        ),
        (
            {"dnsConfig": {"searches": [f"d{i}.example" for i in range(33)]}},
            "spec.dnsConfig.searches: Invalid value: []string{",
        ),
        (
            {"dnsConfig": {"searches": ["a" * 1024, "b" * 1024]}},
            "must not have more than 2048 characters (including spaces) in the search list",
        ),
        (
            {"dnsConfig": {"searches": ["Example.com"]}},
            'spec.dnsConfig.searches[0]: Invalid value: "Example.com": a lowercase RFC 1123 '
            "subdomain must consist of",
        ),
        (
            {"dnsConfig": {"options": [{"value": "2"}]}},
            "spec.dnsConfig.options[0]: Required value: must not be empty",
        ),
    ],
)
def test_invalid_dns_settings_name_the_field(spec: dict[str, Any], expected: str) -> None:
    errs = errors_of(**spec)
    assert any(expected in e for e in errs), errs


@pytest.mark.parametrize(
    ("spec", "policy", "links"),
    [
        ({}, "ClusterFirst", True),
        ({"dnsPolicy": "Default"}, "Default", True),
        ({"enableServiceLinks": False}, "ClusterFirst", False),
    ],
)
def test_defaults(spec: dict[str, Any], policy: str, links: bool) -> None:
    obj = make_pod(**spec)
    pod_defaulting.pod(obj)
    got = manifest.to_dict(obj)["spec"]
    assert (got["dnsPolicy"], got["enableServiceLinks"]) == (policy, links)
