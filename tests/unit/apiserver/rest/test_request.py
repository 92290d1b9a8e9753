"""What an HTTP request asks for (RequestInfoFactory's rules): the verb, the group version, the
resource, its namespace, name and subresource; and the paths Kubernetes serves no resource at
(a 404), for every shape a client sends."""

from __future__ import annotations

import pytest

from apiserver.endpoints.rest.request import NonResourceRequest, ResourceRequest, parse, truthy

# (method, path, query) -> (verb, group, version, plural, namespace, name, subresource, served)
CASES = [
    (
        "GET",
        "/api/v1/namespaces/team-a/pods",
        "",
        ("list", "", "v1", "pods", "team-a", "", "", True),
    ),
    (
        "GET",
        "/api/v1/namespaces/team-a/pods",
        "watch=true",
        ("watch", "", "v1", "pods", "team-a", "", "", True),
    ),
    (
        "GET",
        "/api/v1/namespaces/team-a/pods",
        "watch=1",
        ("watch", "", "v1", "pods", "team-a", "", "", True),
    ),
    (
        "GET",
        "/api/v1/namespaces/team-a/pods",
        "watch=false",
        ("list", "", "v1", "pods", "team-a", "", "", True),
    ),
    (
        "GET",
        "/api/v1/namespaces/team-a/pods",
        "watch=0",
        ("list", "", "v1", "pods", "team-a", "", "", True),
    ),
    ("GET", "/api/v1/pods", "", ("list", "", "v1", "pods", "", "", "", True)),
    ("GET", "/api/v1/pods", "watch=1", ("watch", "", "v1", "pods", "", "", "", True)),
    (
        "GET",
        "/api/v1/namespaces/team-a/pods/web",
        "",
        ("get", "", "v1", "pods", "team-a", "web", "", True),
    ),
    # ?watch on an object's own path is a get (Kubernetes decides list or watch only when no
    # name is given); one object is watched through /watch/.
    (
        "GET",
        "/api/v1/namespaces/team-a/pods/web",
        "watch=1",
        ("get", "", "v1", "pods", "team-a", "web", "", True),
    ),
    (
        "POST",
        "/api/v1/namespaces/team-a/pods",
        "",
        ("create", "", "v1", "pods", "team-a", "", "", True),
    ),
    (
        "PUT",
        "/api/v1/namespaces/team-a/pods/web",
        "",
        ("update", "", "v1", "pods", "team-a", "web", "", True),
    ),
    (
        "PATCH",
        "/api/v1/namespaces/team-a/pods/web",
        "",
        ("patch", "", "v1", "pods", "team-a", "web", "", True),
    ),
    (
        "DELETE",
        "/api/v1/namespaces/team-a/pods/web",
        "",
        ("delete", "", "v1", "pods", "team-a", "web", "", True),
    ),
    (
        "DELETE",
        "/api/v1/namespaces/team-a/pods",
        "",
        ("deletecollection", "", "v1", "pods", "team-a", "", "", True),
    ),
    # Subresources.
    (
        "GET",
        "/api/v1/namespaces/team-a/pods/web/status",
        "",
        ("get", "", "v1", "pods", "team-a", "web", "status", True),
    ),
    (
        "PATCH",
        "/api/v1/namespaces/team-a/pods/web/status",
        "",
        ("patch", "", "v1", "pods", "team-a", "web", "status", True),
    ),
    (
        "GET",
        "/api/v1/namespaces/team-a/pods/web/log",
        "follow=true",
        ("get", "", "v1", "pods", "team-a", "web", "log", True),
    ),
    (
        "POST",
        "/api/v1/namespaces/team-a/pods/web/binding",
        "",
        ("create", "", "v1", "pods", "team-a", "web", "binding", True),
    ),
    (
        "PUT",
        "/apis/apps/v1/namespaces/team-a/deployments/web/scale",
        "",
        ("update", "apps", "v1", "deployments", "team-a", "web", "scale", True),
    ),
    # Namespaces: the object, its subresources, and the resources in it.
    ("GET", "/api/v1/namespaces", "", ("list", "", "v1", "namespaces", "", "", "", True)),
    (
        "GET",
        "/api/v1/namespaces/team-a",
        "",
        ("get", "", "v1", "namespaces", "", "team-a", "", True),
    ),
    (
        "DELETE",
        "/api/v1/namespaces/team-a",
        "",
        ("delete", "", "v1", "namespaces", "", "team-a", "", True),
    ),
    (
        "PUT",
        "/api/v1/namespaces/team-a/status",
        "",
        ("update", "", "v1", "namespaces", "", "team-a", "status", True),
    ),
    (
        "PUT",
        "/api/v1/namespaces/team-a/finalize",
        "",
        ("update", "", "v1", "namespaces", "", "team-a", "finalize", True),
    ),
    # Cluster-scoped kinds.
    ("GET", "/api/v1/nodes", "", ("list", "", "v1", "nodes", "", "", "", True)),
    ("GET", "/api/v1/nodes/node-1", "", ("get", "", "v1", "nodes", "", "node-1", "", True)),
    (
        "PATCH",
        "/api/v1/nodes/node-1/status",
        "",
        ("patch", "", "v1", "nodes", "", "node-1", "status", True),
    ),
    # Named groups.
    (
        "GET",
        "/apis/apps/v1/deployments",
        "",
        ("list", "apps", "v1", "deployments", "", "", "", True),
    ),
    (
        "GET",
        "/apis/batch/v1/namespaces/ci/jobs/pi",
        "",
        ("get", "batch", "v1", "jobs", "ci", "pi", "", True),
    ),
    (
        "GET",
        "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases",
        "watch=1",
        ("watch", "coordination.k8s.io", "v1", "leases", "kube-system", "", "", True),
    ),
    # The deprecated /watch/ prefix: a watch, of one object when named.
    (
        "GET",
        "/api/v1/watch/namespaces/team-a/pods",
        "",
        ("watch", "", "v1", "pods", "team-a", "", "", True),
    ),
    (
        "GET",
        "/api/v1/watch/namespaces/team-a/pods/web",
        "",
        ("watch", "", "v1", "pods", "team-a", "web", "", True),
    ),
    ("GET", "/api/v1/watch/pods", "", ("watch", "", "v1", "pods", "", "", "", True)),
    ("GET", "/api/v1/watch/namespaces", "", ("watch", "", "v1", "namespaces", "", "", "", True)),
    (
        "GET",
        "/api/v1/watch/namespaces/team-a",
        "",
        ("watch", "", "v1", "namespaces", "", "team-a", "", True),
    ),
    (
        "GET",
        "/apis/apps/v1/watch/namespaces/team-a/deployments",
        "",
        ("watch", "apps", "v1", "deployments", "team-a", "", "", True),
    ),
    # Shapes Kubernetes serves nothing at.
    ("GET", "/api/v1/pods/web", "", ("get", "", "v1", "pods", "", "web", "", False)),
    (
        "GET",
        "/api/v1/namespaces/team-a/nodes",
        "",
        ("list", "", "v1", "nodes", "team-a", "", "", False),
    ),
    (
        "GET",
        "/api/v1/namespaces/team-a/nodes/node-1",
        "",
        ("get", "", "v1", "nodes", "team-a", "node-1", "", False),
    ),
    (
        "GET",
        "/api/v1/namespaces/team-a/pods/web/status/extra",
        "",
        ("get", "", "v1", "pods", "team-a", "web", "status", False),
    ),
    (
        "GET",
        "/api/v1/watch/namespaces/team-a/pods/web/status",
        "",
        ("watch", "", "v1", "pods", "team-a", "web", "status", False),
    ),
    (
        "GET",
        "/api/v1/namespaces/team-a/widgets",
        "",
        ("list", "", "v1", "widgets", "team-a", "", "", False),
    ),
    ("GET", "/apis/apps/v1/pods", "", ("list", "apps", "v1", "pods", "", "", "", False)),
    (
        "GET",
        "/apis/apps/v2/deployments",
        "",
        ("list", "apps", "v2", "deployments", "", "", "", False),
    ),
]


def _query(text: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in text.split("&")) if text else {}


@pytest.mark.parametrize(
    "method,path,query,expected", CASES, ids=[f"{c[0]} {c[1]}?{c[2]}" for c in CASES]
)
def test_resource_requests(
    method: str, path: str, query: str, expected: tuple[str, str, str, str, str, str, str, bool]
) -> None:
    req = parse(method, path, _query(query))
    assert isinstance(req, ResourceRequest)
    verb, group, version, plural, namespace, name, subresource, served = expected
    assert (
        req.verb,
        req.group,
        req.version,
        req.plural,
        req.namespace,
        req.name,
        req.subresource,
    ) == (verb, group, version, plural, namespace, name, subresource)
    assert (req.resource is not None) == served
    if served:
        assert req.resource is not None and req.resource.plural == plural


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/version",
        "/api",
        "/api/v1",
        "/apis",
        "/apis/apps",
        "/apis/apps/v1",
        "/openapi/v2",
        "/openapi/v3/api/v1",
        "/healthz",
        "/readyz/etcd",
        "/metrics",
        "/api/v1/watch",
    ],
)
def test_non_resource_requests(path: str) -> None:
    req = parse("GET", path, {})
    assert isinstance(req, NonResourceRequest)
    assert (req.path, req.verb) == (path, "get")


def test_request_info_for_metrics_and_the_overload_guard() -> None:
    def info(method: str, path: str, query: str = "") -> tuple[str, str, str, bool, str]:
        req = parse(method, path, _query(query))
        assert isinstance(req, ResourceRequest)
        i = req.info
        return i.verb, i.resource, i.subresource, i.long_running, i.request_kind

    assert info("GET", "/api/v1/pods") == ("LIST", "pods", "", False, "readOnly")
    assert info("GET", "/api/v1/pods", "watch=1") == ("WATCH", "pods", "", True, "readOnly")
    assert info("GET", "/api/v1/namespaces/a/pods/p") == ("GET", "pods", "", False, "readOnly")
    assert info("POST", "/api/v1/namespaces/a/pods") == ("POST", "pods", "", False, "mutating")
    assert info("GET", "/api/v1/namespaces/a/pods/p/log") == (
        "GET",
        "pods",
        "log",
        True,
        "readOnly",
    )
    assert info("PATCH", "/apis/apps/v1/namespaces/a/deployments/d/scale") == (
        "PATCH",
        "deployments",
        "scale",
        False,
        "mutating",
    )
    assert info("DELETE", "/api/v1/namespaces/a/pods") == ("DELETE", "pods", "", False, "mutating")


@pytest.mark.parametrize(
    "value,expected",
    [
        (None, False),
        ("0", False),
        ("false", False),
        ("False", False),
        ("FALSE", False),
        ("1", True),
        ("true", True),
        ("True", True),
        ("yes", True),
        ("", True),
        ("anything", True),
    ],
)
def test_boolean_query_parameters_read_as_kubernetes_reads_them(
    value: str | None, expected: bool
) -> None:
    assert truthy(value) is expected
