"""The ingress-haproxy add-on on the compose cluster (docker/addons/ingress-haproxy.yaml), with the
real kubectl: an Ingress created without a class gets the default class `haproxy`, its address is
the controller's LoadBalancer Service's (the one `make up` prints), and the host reaches two
Deployments through it by host and path, over HTTP and over TLS with SNI choosing each host's
certificate; an unknown host gets the default backend's 404; a pod reaches the same address. The
tests share the module's namespace, in order."""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pytest

from tests.e2e.kubectl import Kubectl
from tests.e2e.waiting import eventually
from tests.tls_hosts import CA, get_tls

CONTROLLER_NAMESPACE = "ingress-haproxy"

WEB = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
  replicas: 1
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: web
        image: busybox
        command: [sh, -c, "mkdir -p /www/api && echo {name} > /www/index.html
                  && echo {name}-api > /www/api/index.html && exec httpd -f -p 8080 -h /www"]
        ports:
        - {{name: http, containerPort: 8080}}
        readinessProbe:
          httpGet: {{path: /index.html, port: http}}
          periodSeconds: 1
---
apiVersion: v1
kind: Service
metadata:
  name: {name}
spec:
  selector: {{app: {name}}}
  ports:
  - {{name: web, port: 80, targetPort: http}}
"""

INGRESS = """\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
spec:
  tls:
  - hosts: [{a}]
    secretName: a-tls
  - hosts: [{b}]
    secretName: b-tls
  rules:
  - host: {a}
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service: {{name: ing-a, port: {{name: web}}}}
  - host: {b}
    http:
      paths:
      - path: /api
        pathType: Prefix
        backend:
          service: {{name: ing-b, port: {{number: 80}}}}
  - host: {plain}
    http:
      paths:
      - path: /
        pathType: Exact
        backend:
          service: {{name: ing-b, port: {{number: 80}}}}
"""

JUMPOD = """\
apiVersion: v1
kind: Pod
metadata:
  name: ing-jumpod
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: busybox
    command: [sleep, "3600"]
"""


@dataclass(frozen=True)
class Served:
    address: str  # the Ingress's, the controller's Service's load balancer address
    a: str
    b: str
    plain: str  # a host without TLS
    ca: str


@pytest.fixture(scope="module")
def k(kubectl_namespace: str) -> Kubectl:
    return Kubectl(kubectl_namespace)


def http_get(address: str, host: str, path: str, port: int = 80) -> tuple[int, str]:
    conn = http.client.HTTPConnection(address, port, timeout=5)
    try:
        conn.request("GET", path, headers={"Host": host})
        response = conn.getresponse()
        return response.status, response.read().decode().strip()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def served(k: Kubectl, tmp_path_factory: pytest.TempPathFactory) -> Served:
    controller = Kubectl(CONTROLLER_NAMESPACE)
    rollout = controller.run("rollout", "status", "deployment/ingress-haproxy", "--timeout=180s")
    assert rollout.code == 0, rollout
    a, b, plain = (f"{h}.{k.namespace}.example.com" for h in ("a", "b", "plain"))
    folder: Path = tmp_path_factory.mktemp("ingress-tls")
    ca = CA.make(folder)
    for name, host in (("a-tls", a), ("b-tls", b)):
        crt, key = ca.issue(host)
        (folder / f"{name}.crt").write_bytes(crt)
        (folder / f"{name}.key").write_bytes(key)
        k.ok(
            "create", "secret", "tls", name,
            f"--cert={folder / name}.crt", f"--key={folder / name}.key",
        )  # fmt: skip
    for name in ("ing-a", "ing-b"):
        k.ok("apply", "-f", "-", stdin=WEB.format(name=name))
    k.ok("apply", "-f", "-", stdin=JUMPOD)
    k.ok("apply", "-f", "-", stdin=INGRESS.format(a=a, b=b, plain=plain))
    for name in ("ing-a", "ing-b"):
        done = k.run("rollout", "status", f"deployment/{name}", "--timeout=180s")
        assert done.code == 0, done

    def published() -> str:
        ing = json.loads(k.ok("get", "ingress", "web", "-o", "json"))
        return str((ing["status"].get("loadBalancer", {}).get("ingress") or [{}])[0].get("ip", ""))

    address = eventually(published, 90, "the Ingress's status.loadBalancer.ingress")

    def every_backend_answers() -> bool:
        # Each Service's EndpointSlice reaches the controller on its own, and a reload's old
        # workers finish on the old configuration: one backend answering says nothing of the other.
        status, body, _ = get_tls(443, a, "/", None, address)
        ing_a = (status, body.strip()) == (200, "ing-a")
        return ing_a and http_get(address, plain, "/") == (200, "ing-b")

    eventually(every_backend_answers, 90, "both Services served through the Ingress")
    return Served(address, a, b, plain, ca.path)


def test_the_default_class_and_the_controllers_address(k: Kubectl, served: Served) -> None:
    svc = json.loads(
        Kubectl(CONTROLLER_NAMESPACE).ok("get", "service", "ingress-haproxy", "-o", "json")
    )
    assert [i["ip"] for i in svc["status"]["loadBalancer"]["ingress"]] == [served.address]
    ing = json.loads(k.ok("get", "ingress", "web", "-o", "json"))
    assert ing["spec"]["ingressClassName"] == "haproxy"
    header, row = k.ok("get", "ingress", "web").splitlines()
    assert header.split() == ["NAME", "CLASS", "HOSTS", "ADDRESS", "PORTS", "AGE"]
    hosts = f"{served.a},{served.b},{served.plain}"
    assert row.split()[:6] == ["web", "haproxy", hosts, served.address, "80,", "443"]


def test_the_host_reaches_services_by_host_and_path(served: Served) -> None:
    get = partial(http_get, served.address)
    # TLS hosts: plain HTTP is redirected (ingress-nginx's ssl-redirect), with their own host.
    assert get(served.plain, "/") == (200, "ing-b")
    assert get(served.plain, "/x") == (404, "default backend - 404")  # an Exact path
    assert get(served.a, "/")[0] == 308
    cases = [
        (served.a, "/", (200, "ing-a")),
        (served.b, "/api/", (200, "ing-b-api")),
        (served.b, "/apix", (404, "default backend - 404")),
        (f"unknown.{served.a}", "/", (404, "default backend - 404")),
    ]
    for host, path, expected in cases:
        status, body, _ = get_tls(443, host, path, None, served.address)
        assert (status, body.strip()) == expected, (host, path)
    assert get("unknown.example.com", "/") == (404, "default backend - 404")


def test_tls_chooses_the_certificate_by_sni(served: Served) -> None:
    for host, body in ((served.a, "ing-a"), (served.b, "ing-b-api")):
        path = "/" if host == served.a else "/api/"
        status, text, cert = get_tls(443, host, path, served.ca, served.address)
        assert (status, text.strip()) == (200, body)
        assert cert.subject.rfc4514_string() == f"CN={host}"
    _, _, fake = get_tls(443, "other.example.com", "/", None, served.address)
    assert fake.subject.rfc4514_string() == (
        "CN=Kubernetes Ingress Controller Fake Certificate,O=Acme Co"
    )


def test_a_pod_reaches_the_ingress(k: Kubectl, served: Served) -> None:
    k.ok("wait", "--for=condition=Ready", "pod/ing-jumpod", "--timeout=120s")

    def answered() -> str:
        done = k.run(
            "exec", "ing-jumpod", "--", "timeout", "5", "wget", "-qO-",
            "--header", f"Host: {served.plain}", f"http://{served.address}/",
        )  # fmt: skip
        return done.out.strip() if done.code == 0 else ""

    assert eventually(answered, 60, "the Ingress from a pod") == "ing-b"
