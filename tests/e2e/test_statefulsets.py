"""A StatefulSet on the compose cluster, with the real kubectl, as Kubernetes' StatefulSet
tutorial runs one: a headless Service web and a set web of 3 busybox pods, each with a claim
data-web-<n> from the default class (the local-path provisioner). Each pod writes to its volume;
`kubectl delete pod web-1` brings web-1 back under its name, on its claim, with its data; each pod
finds its peers by name through the cluster DNS (web-0.web.<ns>.svc.cluster.local); `kubectl
scale` to 5 adds web-3 and web-4 with claims of their own, and back to 3 removes them from the
highest ordinal, keeping their claims."""

from __future__ import annotations

import re
import secrets

import pytest

from tests.e2e.compose_cluster import ROOT
from tests.e2e.kubectl import Kubectl
from tests.e2e.waiting import eventually

EXAMPLE = ROOT / "examples" / "web-statefulset.yaml"

SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  clusterIP: None
  selector: {app: web}
  ports:
  - {name: web, port: 80}
"""

# Each start is appended to starts; `first` says which pod first used the volume.
STATEFULSET = """\
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: web
spec:
  serviceName: web
  replicas: 3
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: main
        image: busybox
        command:
        - sh
        - -c
        - >-
          [ -f /data/first ] || hostname > /data/first;
          echo start >> /data/starts; exec sleep 3600
        volumeMounts:
        - {name: data, mountPath: /data}
  volumeClaimTemplates:
  - metadata:
      name: data
    spec:
      accessModes: [ReadWriteOnce]
      resources:
        requests:
          storage: 64Mi
"""


def rolled_out(k: Kubectl, timeout: int = 420) -> None:
    ran = k.run("rollout", "status", "sts/web", f"--timeout={timeout}s", timeout=timeout + 30)
    assert ran.code == 0, ran


def pods(k: Kubectl) -> dict[str, tuple[str, str, str]]:
    """The set's pods: name -> (uid, node, IP), the last two empty until the pod has them."""
    out = k.ok(
        "get", "pods", "-l", "app=web", "-o",
        "jsonpath={range .items[*]}{.metadata.name}|{.metadata.uid}|{.spec.nodeName}|"
        "{.status.podIP}{'\\n'}{end}",
    )  # fmt: skip
    rows = (line.split("|") for line in out.splitlines() if line.strip())
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


def claims(k: Kubectl) -> dict[str, tuple[str, str]]:
    """The namespace's claims: name -> (uid, phase)."""
    out = k.ok(
        "get", "pvc", "-o",
        "jsonpath={range .items[*]}{.metadata.name}|{.metadata.uid}|{.status.phase}{'\\n'}{end}",
    )  # fmt: skip
    rows = (line.split("|") for line in out.splitlines() if line.strip())
    return {r[0]: (r[1], r[2]) for r in rows}


def addresses(nslookup_output: str) -> set[str]:
    """The answers of busybox nslookup: the `Address:` lines after the `Name:` line."""
    _, _, answers = nslookup_output.partition("\nName:")
    return set(re.findall(r"^Address:\s*(\S+)\s*$", answers, re.M))


@pytest.fixture(scope="module")
def k(kubectl_namespace: str) -> Kubectl:
    k = Kubectl(kubectl_namespace)
    assert k.ok("apply", "-f", "-", stdin=SERVICE) == "service/web created\n"
    assert k.ok("apply", "-f", "-", stdin=STATEFULSET) == "statefulset.apps/web created\n"
    rolled_out(k)
    return k


def test_each_pod_has_its_name_and_its_claim(k: Kubectl) -> None:
    table = k.ok("get", "sts", "web").splitlines()
    assert table[0].split() == ["NAME", "READY", "AGE"]
    assert table[1].split()[:2] == ["web", "3/3"]
    assert sorted(pods(k)) == ["web-0", "web-1", "web-2"]
    assert {n: phase for n, (_, phase) in claims(k).items()} == {
        "data-web-0": "Bound",
        "data-web-1": "Bound",
        "data-web-2": "Bound",
    }
    for i in range(3):
        name = f"web-{i}"
        assert k.ok("exec", name, "--", "hostname") == f"{name}\n"
        assert k.ok("exec", name, "--", "cat", "/data/first") == f"{name}\n"
        volume = k.ok(
            "get", "pod", name, "-o", "jsonpath={.spec.volumes[0].persistentVolumeClaim.claimName}"
        )
        assert volume == f"data-{name}"


def test_a_deleted_pod_comes_back_on_its_claim_with_its_data(k: Kubectl) -> None:
    before, claims_before = pods(k)["web-1"], claims(k)
    # kubectl 1.36 adds " from <namespace> namespace".
    assert k.ok("delete", "pod", "web-1").startswith('pod "web-1" deleted')
    eventually(
        lambda: (p := pods(k).get("web-1")) is not None and p[0] != before[0], 240, "a new web-1"
    )
    wait = k.run("wait", "--for=condition=Ready", "pod/web-1", "--timeout=180s", timeout=200)
    assert wait.code == 0, wait
    after = pods(k)["web-1"]
    # The same claim, so the same volume, on the node it lives on.
    assert claims(k) == claims_before
    assert after[1] == before[1]
    assert k.ok("exec", "web-1", "--", "cat", "/data/first") == "web-1\n"
    assert k.ok("exec", "web-1", "--", "cat", "/data/starts") == "start\nstart\n"


def lookup(k: Kubectl, pod: str, name: str) -> set[str]:
    """The addresses `pod` gets for `name` from busybox's nslookup (none for NXDOMAIN)."""
    ran = k.run("exec", pod, "--", "nslookup", name)
    return addresses(ran.out) if ran.code == 0 else set()


def test_each_pod_resolves_its_peers_by_name(k: Kubectl) -> None:
    rolled_out(k)  # every pod Ready: a headless Service's names are its ready pods'
    ns = k.namespace
    current = pods(k)
    for me in ("web-0", "web-1", "web-2"):
        for peer in ("web-0", "web-1", "web-2"):
            # busybox 1.37 applies no search list to a name with a dot: the full name.
            name = f"{peer}.web.{ns}.svc.cluster.local"
            wanted = {current[peer][2]}

            def found(me: str = me, name: str = name, wanted: set[str] = wanted) -> bool:
                return lookup(k, me, name) == wanted

            eventually(found, 30, f"{name} from {me}")
    # The Service's own name answers with every pod, once the replica asked has them all: each
    # DNS replica follows the EndpointSlices on its own, and the lookups above may have asked
    # the other.
    everyone = {ip for _, _, ip in current.values()}

    def all_found() -> set[str]:
        found = lookup(k, "web-0", f"web.{ns}.svc.cluster.local")
        assert found == everyone, found
        return found

    eventually(all_found, 30, f"web.{ns}.svc.cluster.local from web-0")


def test_scale_up_adds_ordinals_with_claims_and_scale_down_keeps_them(k: Kubectl) -> None:
    assert k.ok("scale", "sts", "web", "--replicas=5") == "statefulset.apps/web scaled\n"
    rolled_out(k)
    assert sorted(pods(k)) == ["web-0", "web-1", "web-2", "web-3", "web-4"]
    five = claims(k)
    assert sorted(five) == [f"data-web-{i}" for i in range(5)]
    assert k.ok("exec", "web-4", "--", "cat", "/data/first") == "web-4\n"

    assert k.ok("scale", "sts/web", "--replicas=3") == "statefulset.apps/web scaled\n"
    seen: list[list[str]] = []

    def down_to_three() -> bool:
        names = sorted(pods(k))
        if not seen or seen[-1] != names:
            seen.append(names)
        return names == ["web-0", "web-1", "web-2"]

    eventually(down_to_three, 240, "web-3 and web-4 gone")
    # web-4 went first: web-3 was never gone while web-4 was there.
    assert not any("web-4" in names and "web-3" not in names for names in seen), seen
    rolled_out(k)
    # Retain (the default): the claims of the pods scaled away stay, for when they come back.
    assert claims(k) == five


def test_the_documented_example_serves_each_pod_by_its_name() -> None:
    """examples/web-statefulset.yaml, as docs/controllers.md applies it: each pod serves, from its
    own claim, the name of the pod that first wrote it, and a client reaches each by name."""
    ns = f"e2e-sts-example-{secrets.token_hex(3)}"
    Kubectl().ok("create", "namespace", ns)
    try:
        k = Kubectl(ns)
        out = k.ok("apply", "-f", str(EXAMPLE))
        assert out == "service/nginx created\nstatefulset.apps/web created\n"
        rolled_out(k)
        for name in ("web-0", "web-1"):
            url = f"http://{name}.nginx.{ns}.svc.cluster.local"

            def served(url: str = url, name: str = name) -> bool:
                return k.run("exec", "web-0", "--", "wget", "-qO-", url).out == f"{name}\n"

            eventually(served, 30, f"{url} from web-0")
    finally:
        Kubectl().run("delete", "namespace", ns, "--wait=false")
