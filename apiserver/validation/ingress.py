"""Validation of Ingresses and IngressClasses (kubernetes pkg/apis/networking/validation, as of
1.31): rules with DNS hosts (a wildcard only as the first label), paths by their pathType
(required), backends that are a service or a resource but not both, TLS hosts and secret names;
an IngressClass's domain-prefixed controller (immutable) and its parameters' reference."""

from __future__ import annotations

import re
from dataclasses import dataclass

from apiserver.validation import fields, network
from apiserver.validation.embedded_meta import path_segment_name
from apiserver.validation.fields import FieldError
from apiserver.validation.generic_rules import immutable
from apiserver.validation.meta import object_meta
from apiserver.validation.network import go_strings
from podplane.api.core.v1 import core_pb2
from podplane.api.networking.v1 import networking_pb2
from podplane.apimachinery import networking
from podplane.apimachinery.structural.formats import parse_ip_sloppy

_INVALID_PATH_SEQUENCES = ("//", "/./", "/../", "%2f", "%2F")
_INVALID_PATH_SUFFIXES = ("/..", "/.")
_MAX_CONTROLLER_LENGTH = 250
_WILDCARD_SUBDOMAIN_MSG = (
    "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, "
    "which must consist of lower case alphanumeric characters, '-' or '.' and end with an "
    "alphanumeric character (e.g. '*.example.com', regex used for validation is "
    "'\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
_WILDCARD_SUBDOMAIN = re.compile(
    r"\*\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
)
_HTTP_PATH_CHARS = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/-._~%!$&'()*+,;=:"
)
_HTTP_PATH_MSG = "Invalid path (regex used for validation is '[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+')"
NOT_AN_IP = "must be a DNS name, not an IP address"


@dataclass(frozen=True)
class _Options:
    """What an update tolerates because the stored object already had it."""

    allow_invalid_secret_name: bool = False
    allow_invalid_wildcard_host_rule: bool = False


def wildcard_subdomain(path: str, value: str) -> list[FieldError]:
    """IsWildcardDNS1123Subdomain: `*.` then a DNS subdomain."""
    errs = []
    if len(value) > 253:
        errs.append(fields.invalid(path, value, "must be no more than 253 characters"))
    if not _WILDCARD_SUBDOMAIN.fullmatch(value):
        errs.append(fields.invalid(path, value, _WILDCARD_SUBDOMAIN_MSG))
    return errs


def _host(path: str, host: str) -> list[FieldError]:
    if "*" in host:
        return wildcard_subdomain(path, host)
    return fields.dns1123_subdomain(path, host)


def _backend(path: str, backend: networking_pb2.IngressBackend, opts: _Options) -> list[FieldError]:
    """validateIngressBackend: a resource or a service (a DNS-1035 name and a port given by
    name or number), never both."""
    has_resource, has_service = backend.HasField("resource"), backend.HasField("service")
    if has_resource and has_service:
        return [fields.invalid(path, "", "cannot set both resource and service backends")]
    if has_resource:
        return typed_local_object_reference(f"{path}.resource", backend.resource)
    if not has_service:
        return [fields.invalid(path, "", "resource or service backend is required")]
    service = backend.service
    errs: list[FieldError] = []
    if not service.name:
        errs.append(fields.required(f"{path}.service.name"))
    else:
        errs += fields.dns1035_label(f"{path}.service.name", service.name)
    port = service.port
    if port.name and port.number:
        errs.append(fields.invalid(path, "", "cannot set both port name & port number"))
    elif port.name:
        errs += network.port_name(f"{path}.service.port.name", port.name)
    elif port.number:
        errs += network.port_number(f"{path}.service.port.number", port.number)
    else:
        errs.append(fields.required(path, "port name or number is required"))
    return errs


def typed_local_object_reference(
    path: str, ref: core_pb2.TypedLocalObjectReference
) -> list[FieldError]:
    """validateIngressTypedLocalObjectReference: a resource backend's reference."""
    errs: list[FieldError] = []
    if ref.HasField("api_group"):
        errs += fields.dns1123_subdomain(f"{path}.apiGroup", ref.api_group)
    for name, value in (("kind", ref.kind), ("name", ref.name)):
        if not value:
            errs.append(fields.required(f"{path}.{name}"))
        else:
            errs += path_segment_name(f"{path}.{name}", value)
    return errs


def _http_path(path: str, p: networking_pb2.HTTPIngressPath, opts: _Options) -> list[FieldError]:
    """validateHTTPIngressPath: an absolute path, and for Exact and Prefix a clean one."""
    if not p.HasField("path_type"):
        return [fields.required(f"{path}.pathType", "pathType must be specified")]
    errs: list[FieldError] = []
    value = p.path
    if p.path_type in (networking.PATH_TYPE_EXACT, networking.PATH_TYPE_PREFIX):
        problems = [] if value.startswith("/") else ["must be an absolute path"]
        problems += [f"must not contain '{s}'" for s in _INVALID_PATH_SEQUENCES if s in value]
        problems += [f"cannot end with '{s}'" for s in _INVALID_PATH_SUFFIXES if value.endswith(s)]
        errs += [fields.invalid(f"{path}.path", value, problem) for problem in problems]
    elif p.path_type == networking.PATH_TYPE_IMPLEMENTATION_SPECIFIC:
        if value and not value.startswith("/"):
            errs.append(fields.invalid(f"{path}.path", value, "must be an absolute path"))
    else:
        errs.append(fields.unsupported(f"{path}.pathType", p.path_type, networking.PATH_TYPES))
    return errs + _backend(f"{path}.backend", p.backend, opts)


def _rule_value(path: str, rule: networking_pb2.IngressRule, opts: _Options) -> list[FieldError]:
    if not rule.HasField("http"):
        return []
    errs: list[FieldError] = []
    if not rule.http.paths:
        errs.append(fields.required(f"{path}.http.paths"))
    for i, p in enumerate(rule.http.paths):
        errs += _http_path(f"{path}.http.paths[{i}]", p, opts)
    return errs


def _rules(rules: list[networking_pb2.IngressRule], opts: _Options) -> list[FieldError]:
    errs: list[FieldError] = []
    for i, rule in enumerate(rules):
        path = f"spec.rules[{i}]"
        wildcard = "*" in rule.host
        if rule.host:
            if parse_ip_sloppy(rule.host) is not None:
                errs.append(fields.invalid(f"{path}.host", rule.host, NOT_AN_IP))
            errs += _host(f"{path}.host", rule.host)
        if not wildcard or not opts.allow_invalid_wildcard_host_rule:
            errs += _rule_value(path, rule, opts)
    return errs


def _secret_name(name: str) -> list[FieldError]:
    return fields.dns1123_subdomain("", name) if name else []


def _tls(spec: networking_pb2.IngressSpec, opts: _Options) -> list[FieldError]:
    errs: list[FieldError] = []
    for i, tls in enumerate(spec.tls):
        for j, host in enumerate(tls.hosts):
            errs += _host(f"spec.tls[{i}].hosts[{j}]", host)
        if not opts.allow_invalid_secret_name:
            for e in _secret_name(tls.secret_name):
                errs.append(fields.invalid(f"spec.tls[{i}].secretName", tls.secret_name, e.detail))
    return errs


def _spec(spec: networking_pb2.IngressSpec, opts: _Options) -> list[FieldError]:
    """ValidateIngressSpec."""
    errs: list[FieldError] = []
    if not spec.rules and not spec.HasField("default_backend"):
        errs.append(
            fields.invalid(
                "spec",
                go_strings([], "[]networking.IngressRule"),
                "either `defaultBackend` or `rules` must be specified",
            )
        )
    if spec.HasField("default_backend"):
        errs += _backend("spec.defaultBackend", spec.default_backend, opts)
    errs += _rules(list(spec.rules), opts)
    errs += _tls(spec, opts)
    if spec.HasField("ingress_class_name"):
        errs += fields.dns1123_subdomain("spec.ingressClassName", spec.ingress_class_name)
    return errs


def _ingress(obj: networking_pb2.Ingress, opts: _Options) -> list[FieldError]:
    return object_meta(obj.metadata, namespaced=True) + _spec(obj.spec, opts)


def ingress(obj: networking_pb2.Ingress) -> list[FieldError]:
    """ValidateIngressCreate: also, a class annotation that disagrees with ingressClassName."""
    errs = _ingress(obj, _Options())
    annotation = obj.metadata.annotations.get(networking.INGRESS_CLASS_ANNOTATION)
    spec = obj.spec
    if (
        annotation is not None
        and spec.HasField("ingress_class_name")
        and annotation != spec.ingress_class_name
    ):
        errs.append(
            fields.invalid(
                f"annotations.{networking.INGRESS_CLASS_ANNOTATION}",
                annotation,
                "must match `ingressClassName` when both are specified",
            )
        )
    return errs


def _had_invalid_wildcard_rule(old: networking_pb2.Ingress) -> bool:
    return any("*" in rule.host and _rule_value("", rule, _Options()) for rule in old.spec.rules)


def ingress_update(new: networking_pb2.Ingress, old: networking_pb2.Ingress) -> list[FieldError]:
    """ValidateIngressUpdate: what the stored object already got away with (an invalid secret
    name, an invalid rule under a wildcard host) is tolerated."""
    opts = _Options(
        allow_invalid_secret_name=any(_secret_name(t.secret_name) for t in old.spec.tls),
        allow_invalid_wildcard_host_rule=_had_invalid_wildcard_rule(old),
    )
    return _ingress(new, opts)


def ingress_status_update(
    new: networking_pb2.Ingress, old: networking_pb2.Ingress
) -> list[FieldError]:
    """ValidateIngressStatusUpdate: the load balancer's addresses and host names."""
    errs = object_meta(new.metadata, namespaced=True)
    for i, entry in enumerate(new.status.load_balancer.ingress):
        path = f"status.loadBalancer.ingress[{i}]"
        if entry.ip and parse_ip_sloppy(entry.ip) is None:
            errs.append(fields.invalid(f"{path}.ip", entry.ip, "must be a valid IP address"))
        if entry.hostname:
            errs += fields.dns1123_subdomain(f"{path}.hostname", entry.hostname)
            if parse_ip_sloppy(entry.hostname) is not None:
                errs.append(fields.invalid(f"{path}.hostname", entry.hostname, NOT_AN_IP))
    return errs


# ------------------------------------------------------------------ IngressClass
def domain_prefixed_path(path: str, value: str) -> list[FieldError]:
    """IsDomainPrefixedPath: a DNS subdomain, '/', then HTTP path characters (acme.io/foo)."""
    if not value:
        return [fields.required(path)]
    host, slash, rest = value.partition("/")
    if not slash or not host or not rest:
        return [
            fields.invalid(path, value, 'must be a domain-prefixed path (such as "acme.io/foo")')
        ]
    errs = [fields.invalid(path, host, e.detail) for e in fields.dns1123_subdomain("", host)]
    if not set(rest) <= _HTTP_PATH_CHARS:
        errs.append(fields.invalid(path, rest, _HTTP_PATH_MSG))
    return errs


def _parameters(ref: networking_pb2.IngressClassParametersReference) -> list[FieldError]:
    """validateIngressClassParametersReference: a kind and name; a namespace if and only if
    the scope is Namespace."""
    path = "spec.parameters"
    errs: list[FieldError] = []
    if ref.HasField("api_group"):
        errs += fields.dns1123_subdomain(f"{path}.apiGroup", ref.api_group)
    for name, value in (("kind", ref.kind), ("name", ref.name)):
        if not value:
            errs.append(fields.required(f"{path}.{name}"))
        else:
            errs += path_segment_name(f"{path}.{name}", value)
    if not ref.HasField("scope"):
        return [*errs, fields.required(f"{path}.scope")]
    if ref.scope not in networking.SCOPES:
        return [*errs, fields.unsupported(f"{path}.scope", ref.scope, networking.SCOPES)]
    if ref.scope == networking.SCOPE_NAMESPACE:
        if not ref.HasField("namespace"):
            errs.append(
                fields.required(f"{path}.namespace", "`parameters.scope` is set to 'Namespace'")
            )
        else:
            errs += fields.dns1123_label(f"{path}.namespace", ref.namespace)
    if ref.scope == networking.SCOPE_CLUSTER and ref.HasField("namespace"):
        errs.append(fields.forbidden(f"{path}.namespace", "`parameters.scope` is set to 'Cluster'"))
    return errs


def ingress_class(obj: networking_pb2.IngressClass) -> list[FieldError]:
    """ValidateIngressClass."""
    errs = object_meta(obj.metadata, namespaced=False)
    controller = obj.spec.controller
    if len(controller) > _MAX_CONTROLLER_LENGTH:
        errs.append(
            FieldError(
                "spec.controller",
                "Too long",
                None,
                f"may not be more than {_MAX_CONTROLLER_LENGTH} bytes",
            )
        )
    errs += domain_prefixed_path("spec.controller", controller)
    if obj.spec.HasField("parameters"):
        errs += _parameters(obj.spec.parameters)
    return errs


def ingress_class_update(
    new: networking_pb2.IngressClass, old: networking_pb2.IngressClass
) -> list[FieldError]:
    """ValidateIngressClassUpdate: the controller never changes."""
    return immutable("spec.controller", new.spec.controller, old.spec.controller) + ingress_class(
        new
    )
