"""A pod's DNS settings (kubernetes pkg/apis/core/validation: validateDNSPolicy's companion
validatePodDNSConfig, ValidateHostAliases), with the limits the kubelet applies too."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from apiserver.validation import fields
from apiserver.validation.fields import FieldError
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery.service import ip_family

# Kubernetes' MaxDNSNameservers, MaxDNSSearchPaths and MaxDNSSearchListChars (the expanded
# limits, ExpandedDNSConfig, GA since 1.28).
MAX_NAMESERVERS = 3
MAX_SEARCH_PATHS = 32
MAX_SEARCH_LIST_CHARS = 2048
INVALID_IP = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"


@dataclass(frozen=True)
class _GoStrings:
    """A list as Go's %#v shows it in an error: []string{"a", "b"}."""

    values: tuple[str, ...]

    def __str__(self) -> str:
        return "[]string{" + ", ".join(f'"{v}"' for v in self.values) + "}"


def go_strings(values: Iterable[str]) -> _GoStrings:
    return _GoStrings(tuple(values))


def pod_dns_config(spec: core_pb2.PodSpec, path: str) -> list[FieldError]:
    """spec.dnsConfig: required with dnsPolicy None (with a nameserver); its limits otherwise."""
    errs: list[FieldError] = []
    if spec.dns_policy == "None":
        if not spec.HasField("dns_config"):
            return [fields.required(path, "must provide `dnsConfig` when `dnsPolicy` is None")]
        if not spec.dns_config.nameservers:
            return [
                fields.required(
                    f"{path}.nameservers",
                    "must provide at least one DNS nameserver when `dnsPolicy` is None",
                )
            ]
    if not spec.HasField("dns_config"):
        return errs
    config = spec.dns_config
    if len(config.nameservers) > MAX_NAMESERVERS:
        errs.append(
            fields.invalid(
                f"{path}.nameservers",
                go_strings(config.nameservers),
                f"must not have more than {MAX_NAMESERVERS} nameservers",
            )
        )
    for i, server in enumerate(config.nameservers):
        if not ip_family(server):
            errs.append(fields.invalid(f"{path}.nameservers[{i}]", server, INVALID_IP))
    if len(config.searches) > MAX_SEARCH_PATHS:
        errs.append(
            fields.invalid(
                f"{path}.searches",
                go_strings(config.searches),
                f"must not have more than {MAX_SEARCH_PATHS} search paths",
            )
        )
    if len(" ".join(config.searches)) > MAX_SEARCH_LIST_CHARS:
        errs.append(
            fields.invalid(
                f"{path}.searches",
                go_strings(config.searches),
                f"must not have more than {MAX_SEARCH_LIST_CHARS} characters (including spaces) "
                "in the search list",
            )
        )
    for i, search in enumerate(config.searches):
        # A trailing dot is fine.
        errs += fields.dns1123_subdomain(f"{path}.searches[{i}]", search.removesuffix("."))
    for i, option in enumerate(config.options):
        if not option.name:
            errs.append(fields.required(f"{path}.options[{i}]", "must not be empty"))
    return errs


def host_aliases(path: str, aliases: Iterable[core_pb2.HostAlias]) -> list[FieldError]:
    """ValidateHostAliases: the lines added to the pod's /etc/hosts, an IP address and DNS
    names each."""
    errs: list[FieldError] = []
    for i, alias in enumerate(aliases):
        if not ip_family(alias.ip):
            errs.append(fields.invalid(f"{path}[{i}].ip", alias.ip, INVALID_IP))
        for j, hostname in enumerate(alias.hostnames):
            errs += fields.dns1123_subdomain(f"{path}[{i}].hostnames[{j}]", hostname)
    return errs
