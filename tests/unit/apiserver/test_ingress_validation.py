"""Ingress and IngressClass validation (kubernetes pkg/apis/networking/validation, as of 1.31)
with Kubernetes' texts and field paths; IngressClass defaults; the DefaultIngressClass admission
plugin."""

from __future__ import annotations

import asyncio

import pytest

from apiserver.admission.default_ingress_class import DefaultIngressClass
from apiserver.defaulting import networking as defaulting
from apiserver.validation import ingress as validation
from podplane.api.networking.v1 import networking_pb2
from podplane.apimachinery import codec
from podplane.apimachinery.json_types import JSONObject, JSONValue
from tests.unit.apiserver.admission_calls import admit_create

_BACKEND: JSONObject = {"service": {"name": "web", "port": {"number": 80}}}
_WILDCARD_MSG = (
    "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, "
    "which must consist of lower case alphanumeric characters, '-' or '.' and end with an "
    "alphanumeric character (e.g. '*.example.com', regex used for validation is "
    "'\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "
    "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)


def _path(**fields: JSONValue) -> JSONObject:
    out: JSONObject = {"path": "/", "pathType": "Prefix", "backend": _BACKEND}
    out.update(fields)
    return {k: v for k, v in out.items() if v is not None}


def _ingress(
    annotations: dict[str, str] | None = None, **spec: JSONValue
) -> networking_pb2.Ingress:
    doc = {
        "metadata": {"name": "web", "namespace": "default", "annotations": annotations or {}},
        "spec": spec,
    }
    return codec.decode(networking_pb2.Ingress, doc)[0]


def _rule(host: str = "", *paths: JSONObject) -> JSONObject:
    rule: JSONObject = {"http": {"paths": list(paths or [_path()])}}
    if host:
        rule["host"] = host
    return rule


def _errors(obj: networking_pb2.Ingress) -> list[str]:
    return [str(e) for e in validation.ingress(obj)]


def test_a_valid_ingress() -> None:
    obj = _ingress(
        ingressClassName="nginx",
        rules=[_rule("foo.com"), _rule("*.bar.com", _path(pathType="Exact", path="/a/b"))],
        tls=[{"hosts": ["foo.com", "*.bar.com"], "secretName": "tls"}],
    )
    assert _errors(obj) == []
    assert _errors(_ingress(defaultBackend={"resource": {"kind": "Bucket", "name": "b"}})) == []


@pytest.mark.parametrize(
    "spec, errors",
    [
        (
            {},
            [
                "spec: Invalid value: []networking.IngressRule(nil): either `defaultBackend` or "
                "`rules` must be specified"
            ],
        ),
        (
            {"rules": [_rule("", _path(pathType=None))]},
            ["spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified"],
        ),
        (
            {"rules": [_rule("", _path(pathType="Regex"))]},
            [
                'spec.rules[0].http.paths[0].pathType: Unsupported value: "Regex": supported '
                'values: "Exact", "ImplementationSpecific", "Prefix"'
            ],
        ),
        (
            {"rules": [{"http": {"paths": []}}]},
            ["spec.rules[0].http.paths: Required value"],
        ),
        (
            {"rules": [_rule("", _path(path="a//b/.."))]},
            [
                'spec.rules[0].http.paths[0].path: Invalid value: "a//b/..": must be an '
                "absolute path",
                'spec.rules[0].http.paths[0].path: Invalid value: "a//b/..": must not contain '
                "'//'",
                'spec.rules[0].http.paths[0].path: Invalid value: "a//b/..": cannot end with '
                "'/..'",
            ],
        ),
        (
            {"rules": [_rule("", _path(pathType="ImplementationSpecific", path=""))]},
            [],
        ),
        (
            {"rules": [_rule("", _path(pathType="ImplementationSpecific", path="x"))]},
            [
                'spec.rules[0].http.paths[0].path: Invalid value: "x": must be an absolute path',
            ],
        ),
        (
            {"rules": [_rule("10.0.0.1")]},
            [
                'spec.rules[0].host: Invalid value: "10.0.0.1": must be a DNS name, not an IP '
                "address"
            ],
        ),
        (
            {"rules": [_rule("foo.*.com")]},
            [f'spec.rules[0].host: Invalid value: "foo.*.com": {_WILDCARD_MSG}'],
        ),
        (
            {"rules": [_rule("Foo.com")]},
            [f'spec.rules[0].host: Invalid value: "Foo.com": {_SUBDOMAIN_MSG}'],
        ),
        (
            {"defaultBackend": {**_BACKEND, "resource": {"kind": "Bucket", "name": "b"}}},
            [
                'spec.defaultBackend: Invalid value: "": cannot set both resource and service '
                "backends"
            ],
        ),
        (
            {"defaultBackend": {}},
            ['spec.defaultBackend: Invalid value: "": resource or service backend is required'],
        ),
        (
            {"defaultBackend": {"service": {"name": "1web", "port": {}}}},
            [
                'spec.defaultBackend.service.name: Invalid value: "1web": a DNS-1035 label must '
                "consist of lower case alphanumeric characters or '-', start with an alphabetic "
                "character, and end with an alphanumeric character (e.g. 'my-name',  or "
                "'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
                "spec.defaultBackend: Required value: port name or number is required",
            ],
        ),
        (
            {"defaultBackend": {"service": {"name": "web", "port": {"name": "http", "number": 8}}}},
            ['spec.defaultBackend: Invalid value: "": cannot set both port name & port number'],
        ),
        (
            {"defaultBackend": {"service": {"name": "web", "port": {"number": 70000}}}},
            [
                "spec.defaultBackend.service.port.number: Invalid value: 70000: must be between "
                "1 and 65535, inclusive"
            ],
        ),
        (
            {"defaultBackend": {"resource": {"apiGroup": "x", "kind": "a/b"}}},
            [
                "spec.defaultBackend.resource.kind: Invalid value: \"a/b\": may not contain '/'",
                "spec.defaultBackend.resource.name: Required value",
            ],
        ),
        (
            {"defaultBackend": _BACKEND, "tls": [{"hosts": ["*"], "secretName": "Bad"}]},
            [
                f'spec.tls[0].hosts[0]: Invalid value: "*": {_WILDCARD_MSG}',
                f'spec.tls[0].secretName: Invalid value: "Bad": {_SUBDOMAIN_MSG}',
            ],
        ),
        (
            {"defaultBackend": _BACKEND, "ingressClassName": "a_b"},
            [f'spec.ingressClassName: Invalid value: "a_b": {_SUBDOMAIN_MSG}'],
        ),
    ],
)
def test_spec_errors(spec: JSONObject, errors: list[str]) -> None:
    assert _errors(_ingress(**spec)) == errors


def test_the_class_annotation_must_match_the_class_name() -> None:
    obj = _ingress({"kubernetes.io/ingress.class": "a"}, defaultBackend=_BACKEND)
    assert _errors(obj) == []
    obj.spec.ingress_class_name = "b"
    assert _errors(obj) == [
        'annotations.kubernetes.io/ingress.class: Invalid value: "a": must match '
        "`ingressClassName` when both are specified"
    ]
    # Only on create.
    assert validation.ingress_update(obj, obj) == []


def test_an_update_keeps_what_the_stored_object_got_away_with() -> None:
    old = _ingress(
        rules=[_rule("*.foo.com", _path(pathType="Exact", path="rel"))],
        tls=[{"secretName": "Bad_Name"}],
    )
    assert validation.ingress_update(old, old) == []
    new = _ingress(rules=[_rule("foo.com", _path(pathType="Exact", path="rel"))])
    assert [str(e) for e in validation.ingress_update(new, old)] == [
        'spec.rules[0].http.paths[0].path: Invalid value: "rel": must be an absolute path'
    ]


def test_status_update() -> None:
    obj = _ingress(defaultBackend=_BACKEND)
    entries = obj.status.load_balancer.ingress
    entries.add(ip="10.0.0.300")
    entries.add(hostname="10.0.0.3")
    entries.add(ip="192.0.2.1", hostname="lb.example.com")
    assert [str(e) for e in validation.ingress_status_update(obj, obj)] == [
        'status.loadBalancer.ingress[0].ip: Invalid value: "10.0.0.300": must be a valid IP '
        "address",
        'status.loadBalancer.ingress[1].hostname: Invalid value: "10.0.0.3": must be a DNS name, '
        "not an IP address",
    ]


# ------------------------------------------------------------------ IngressClass


def _class(**spec: JSONValue) -> networking_pb2.IngressClass:
    doc = {"metadata": {"name": "nginx"}, "spec": spec}
    return codec.decode(networking_pb2.IngressClass, doc)[0]


@pytest.mark.parametrize(
    "spec, errors",
    [
        ({"controller": "k8s.io/ingress-nginx"}, []),
        ({}, ["spec.controller: Required value"]),
        (
            {"controller": "nginx"},
            [
                'spec.controller: Invalid value: "nginx": must be a domain-prefixed path (such as '
                '"acme.io/foo")'
            ],
        ),
        (
            {"controller": "Acme.io/a b"},
            [
                f'spec.controller: Invalid value: "Acme.io": {_SUBDOMAIN_MSG}',
                'spec.controller: Invalid value: "a b": Invalid path (regex used for validation '
                "is '[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+')",
            ],
        ),
        (
            {"controller": "a.io/" + "x" * 250},
            [
                "spec.controller: Too long: may not be more than 250 bytes",
            ],
        ),
        (
            {
                "controller": "a.io/c",
                "parameters": {"kind": "P", "name": "p", "scope": "Namespace"},
            },
            ["spec.parameters.namespace: Required value: `parameters.scope` is set to 'Namespace'"],
        ),
        (
            {
                "controller": "a.io/c",
                "parameters": {"kind": "P", "name": "p", "scope": "Cluster", "namespace": "n"},
            },
            ["spec.parameters.namespace: Forbidden: `parameters.scope` is set to 'Cluster'"],
        ),
        (
            {"controller": "a.io/c", "parameters": {"kind": "P", "name": "..", "scope": "All"}},
            [
                "spec.parameters.name: Invalid value: \"..\": may not be '..'",
                'spec.parameters.scope: Unsupported value: "All": supported values: "Cluster", '
                '"Namespace"',
            ],
        ),
    ],
)
def test_ingress_class_errors(spec: JSONObject, errors: list[str]) -> None:
    assert [str(e) for e in validation.ingress_class(_class(**spec))] == errors


def test_ingress_class_defaults_and_immutable_controller() -> None:
    obj = _class(controller="a.io/c", parameters={"kind": "P", "name": "p"})
    assert [str(e) for e in validation.ingress_class(obj)] == [
        "spec.parameters.scope: Required value"
    ]
    defaulting.ingress_class(obj)
    assert obj.spec.parameters.scope == "Cluster"
    without = _class(controller="a.io/c")
    defaulting.ingress_class(without)
    assert not without.spec.HasField("parameters")
    changed = _class(controller="a.io/d", parameters={"kind": "P", "name": "p", "scope": "Cluster"})
    assert [str(e) for e in validation.ingress_class_update(changed, obj)] == [
        'spec.controller: Invalid value: "a.io/d": field is immutable'
    ]


# ------------------------------------------------------------------ DefaultIngressClass


class _Classes:
    def __init__(self, classes: list[networking_pb2.IngressClass]) -> None:
        self.classes = classes

    async def lookup(self, name: str) -> networking_pb2.IngressClass | None:
        return next((c for c in self.classes if c.metadata.name == name), None)

    def cached(self) -> list[networking_pb2.IngressClass]:
        return self.classes


def _ingress_class(name: str, default: bool, created: str) -> networking_pb2.IngressClass:
    annotations = {"ingressclass.kubernetes.io/is-default-class": "true" if default else "false"}
    meta = {"name": name, "annotations": annotations, "creationTimestamp": created}
    return codec.decode(networking_pb2.IngressClass, {"metadata": meta})[0]


_OLD = _ingress_class("old", True, "2026-01-01T00:00:00Z")
_NEW = _ingress_class("new", True, "2026-02-01T00:00:00Z")
_TIED = _ingress_class("also-new", True, "2026-02-01T00:00:00Z")
_NOT_DEFAULT = _ingress_class("other", False, "2026-03-01T00:00:00Z")


@pytest.mark.parametrize(
    "ingress, classes, expected",
    [
        (_ingress(defaultBackend=_BACKEND), [_OLD, _NEW, _NOT_DEFAULT], "new"),
        # Of defaults created in the same second, the first by name.
        (_ingress(defaultBackend=_BACKEND), [_OLD, _NEW, _TIED], "also-new"),
        (_ingress(defaultBackend=_BACKEND), [_NOT_DEFAULT], None),
        (_ingress(defaultBackend=_BACKEND, ingressClassName="mine"), [_NEW], "mine"),
        # A class named by the old annotation is kept: none is added.
        (_ingress({"kubernetes.io/ingress.class": "x"}, defaultBackend=_BACKEND), [_NEW], None),
    ],
)
def test_default_ingress_class_admission(
    ingress: networking_pb2.Ingress, classes: list[networking_pb2.IngressClass], expected: str
) -> None:
    asyncio.run(admit_create(DefaultIngressClass(_Classes(classes)), ingress))
    if expected is None:
        assert not ingress.spec.HasField("ingress_class_name")
    else:
        assert ingress.spec.ingress_class_name == expected
