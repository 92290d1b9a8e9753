"""Workloads with the real kubectl on the compose cluster: examples/web-deployment.yaml applied
and rolled out, port-forward to its web server, a change rolled out and undone, scale (of the
deployment and of a replication controller), a job to completion and its logs, then `kubectl get`
of every kind across namespaces. Assertions on kubectl's own output and exit codes; the tests
share the module's namespace and deployment, in order."""

from __future__ import annotations

import re
import urllib.request

import pytest

from tests.e2e.compose_cluster import ROOT
from tests.e2e.kubectl import Kubectl, Lines, Result
from tests.e2e.waiting import eventually

WEB = ROOT / "examples" / "web-deployment.yaml"
SLEEPERS = """\
apiVersion: v1
kind: ReplicationController
metadata:
  name: sleepers
spec:
  replicas: 0
  selector: {app: sleepers}
  template:
    metadata:
      labels: {app: sleepers}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: sleep
        image: busybox
        command: [sleep, "3600"]
"""


@pytest.fixture(scope="module")
def k(kubectl_namespace: str) -> Kubectl:
    return Kubectl(kubectl_namespace)


@pytest.fixture(scope="module")
def web(k: Kubectl) -> Result:
    """examples/web-deployment.yaml applied; what `kubectl rollout status` then printed."""
    assert k.ok("apply", "-f", str(WEB)) == "deployment.apps/web created\n"
    return k.run("rollout", "status", "deployment/web", "--timeout=120s")


def rows(out: str) -> list[list[str]]:
    return [re.split(r"\s{2,}", line.strip()) for line in out.splitlines()[1:]]


def test_rollout_status_follows_the_deployment_until_available(k: Kubectl, web: Result) -> None:
    assert web.code == 0, web
    assert web.out.endswith('deployment "web" successfully rolled out\n'), web
    # kubectl's rollout status lines (kubectl/pkg/polymorphichelpers/rollout_status.go): the
    # first one is the spec update line when the controller has not yet seen the new generation.
    for line in web.out.splitlines()[:-1]:
        assert re.fullmatch(
            r"Waiting for deployment spec update to be observed\.\.\.|"
            r'Waiting for deployment "web" rollout to finish: (\d of 3 updated replicas are '
            r"available|\d out of 3 new replicas have been updated|\d old replicas are pending "
            r"termination)\.\.\.",
            line,
        ), web
    deployment = k.ok("get", "deployment", "web", "-o", "wide")
    assert re.match(
        r"NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\s+CONTAINERS\s+IMAGES\s+SELECTOR\n"
        r"web\s+3/3\s+3\s+3\s+\S+\s+web\s+busybox\s+app=web\n$",
        deployment,
    ), deployment
    (replicaset,) = rows(k.ok("get", "replicasets", "-l", "app=web"))
    assert re.fullmatch(r"web-[a-z0-9]+", replicaset[0]) and replicaset[1:4] == ["3", "3", "3"]
    pods = rows(k.ok("get", "pods", "-l", "app=web"))
    assert len(pods) == 3 and all(p[1:3] == ["1/1", "Running"] for p in pods), pods


def test_port_forward_reaches_the_deployments_web_server(k: Kubectl, web: Result) -> None:
    forward = Lines(k.popen("port-forward", "deployment/web", ":80", "--address", "127.0.0.1"))
    try:
        (line,) = forward.until(r"^Forwarding from 127\.0\.0\.1:\d+ -> 80$")
        port = int(line.split(":")[1].split()[0])
        for _ in range(2):  # a connection each, over the one forwarding session
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30) as answer:
                assert re.fullmatch(rb"hello from web-[a-z0-9]+-[a-z0-9]+\n", answer.read())
    finally:
        forward.stop()


def test_a_change_rolls_out_and_is_undone(k: Kubectl, web: Result) -> None:
    first = k.ok("get", "deployment", "web", "-o", "jsonpath={.spec.template.spec}")
    assert k.ok("set", "env", "deployment/web", "GREETING=v2") == (
        "deployment.apps/web env updated\n"
    )
    rolled = k.run("rollout", "status", "deployment/web", "--timeout=120s")
    assert rolled.out.endswith('deployment "web" successfully rolled out\n'), rolled
    history = k.ok("rollout", "history", "deployment/web")
    assert re.fullmatch(
        r"deployment\.apps/web \nREVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>\n\n", history
    ), history
    replicasets = rows(k.ok("get", "replicasets", "-l", "app=web", "--sort-by=.metadata.name"))
    assert sorted(r[1] for r in replicasets) == ["0", "3"], replicasets

    assert k.ok("rollout", "undo", "deployment/web") == "deployment.apps/web rolled back\n"
    undone = k.run("rollout", "status", "deployment/web", "--timeout=120s")
    assert undone.out.endswith('deployment "web" successfully rolled out\n'), undone
    assert k.ok("get", "deployment", "web", "-o", "jsonpath={.spec.template.spec}") == first
    history = k.ok("rollout", "history", "deployment/web")
    assert re.fullmatch(
        r"deployment\.apps/web \nREVISION\s+CHANGE-CAUSE\n2\s+<none>\n3\s+<none>\n\n", history
    ), history


def test_scale_a_deployment_and_a_replication_controller(k: Kubectl, web: Result) -> None:
    assert k.ok("scale", "deployment/web", "--replicas=1") == "deployment.apps/web scaled\n"
    k.ok("rollout", "status", "deployment/web", "--timeout=60s")
    # Rolled out already once the replica set is scaled (its 3 updated replicas cover 1), as on
    # Kubernetes: the status counts the 2 extra pods until they have gone.
    gone = k.wait("--for=jsonpath={.status.replicas}=1", "deployment/web", "--timeout=60s")
    assert gone == Result(0, "deployment.apps/web condition met\n", ""), gone
    assert rows(k.ok("get", "deployment", "web"))[0][:4] == ["web", "1/1", "1", "1"]
    refused = k.run("scale", "deployment/web", "--current-replicas=3", "--replicas=2")
    assert refused == Result(1, "", "error: Expected replicas to be 3, was 1\n")

    assert k.ok("apply", "-f", "-", stdin=SLEEPERS) == "replicationcontroller/sleepers created\n"
    scaled = k.run("scale", "rc/sleepers", "--replicas=1")
    assert scaled == Result(0, "replicationcontroller/sleepers scaled\n", "")
    ready = k.wait("--for=jsonpath={.status.readyReplicas}=1", "rc/sleepers", "--timeout=60s")
    assert ready == Result(0, "replicationcontroller/sleepers condition met\n", "")
    (sleepers,) = rows(k.ok("get", "rc", "sleepers"))
    assert sleepers[:4] == ["sleepers", "1", "1", "1"], sleepers


def test_a_job_runs_to_completion_and_keeps_its_logs(k: Kubectl) -> None:
    created = k.run(
        "create", "job", "hello", "--image=busybox", "--", "echo", "Hello world from a Job"
    )
    assert created == Result(0, "job.batch/hello created\n", "")
    done = k.wait("--for=condition=complete", "job/hello", "--timeout=90s")
    assert done == Result(0, "job.batch/hello condition met\n", "")
    assert k.ok("logs", "job/hello") == "Hello world from a Job\n"
    jobs = k.ok("get", "jobs")
    assert re.match(
        r"NAME\s+STATUS\s+COMPLETIONS\s+DURATION\s+AGE\nhello\s+Complete\s+1/1\s+\S+\s+\S+\n$",
        jobs,
    ), jobs


def test_get_every_kind_across_namespaces(k: Kubectl, web: Result, kubectl_namespace: str) -> None:
    assert k.ok("create", "configmap", "settings", "--from-literal=mode=fast") == (
        "configmap/settings created\n"
    )
    assert k.ok("create", "secret", "generic", "token", "--from-literal=t=s3cr3t") == (
        "secret/token created\n"
    )
    # The job controller records Completed after the status that `kubectl wait` saw (the test
    # above), and events are written on their own (podplane/client/events.py).
    eventually(
        lambda: (
            "Job completed"
            in k.ok(
                "get", "events", "--field-selector", "involvedObject.name=hello,reason=Completed"
            )
        ),
        30,
        "the Job's Completed event",
    )
    out = k.ok("get", "deploy,rs,rc,jobs,nodes,ns,events,cm,secrets,leases", "-A")
    ns = re.escape(kubectl_namespace)
    for expected in [
        r"NAMESPACE\s+NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE",
        rf"{ns}\s+deployment\.apps/web\s+1/1\s+1\s+1\s+\S+",
        r"NAMESPACE\s+NAME\s+DESIRED\s+CURRENT\s+READY\s+AGE",
        rf"{ns}\s+replicaset\.apps/web-[a-z0-9]+\s+1\s+1\s+1\s+\S+",
        rf"{ns}\s+replicationcontroller/sleepers\s+1\s+1\s+1\s+\S+",
        r"NAMESPACE\s+NAME\s+STATUS\s+COMPLETIONS\s+DURATION\s+AGE",
        rf"{ns}\s+job\.batch/hello\s+Complete\s+1/1\s+\S+\s+\S+",
        r"NAMESPACE\s+NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION",
        r"\s+node/node-1\s+Ready\s+<none>\s+\S+\s+v1\.31\.0-podplane",
        r"NAMESPACE\s+NAME\s+STATUS\s+AGE",
        rf"\s+namespace/{ns}\s+Active\s+\S+",
        r"NAMESPACE\s+LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE",
        rf"{ns}\s+\S+\s+Normal\s+ScalingReplicaSet\s+deployment/web\s+"
        r"Scaled up replica set web-[a-z0-9]+ (from 0 )?to 3",
        rf"{ns}\s+\S+\s+Normal\s+Completed\s+job/hello\s+Job completed",
        r"NAMESPACE\s+NAME\s+DATA\s+AGE",
        rf"{ns}\s+configmap/settings\s+1\s+\S+",
        r"NAMESPACE\s+NAME\s+TYPE\s+DATA\s+AGE",
        rf"{ns}\s+secret/token\s+Opaque\s+1\s+\S+",
        r"NAMESPACE\s+NAME\s+HOLDER\s+AGE",
        r"kube-node-lease\s+lease\.coordination\.k8s\.io/node-1\s+node-1\s+\S+",
        r"kube-system\s+lease\.coordination\.k8s\.io/kube-scheduler\s+\S+\s+\S+",
    ]:
        assert re.search(f"^{expected}$", out, re.M), f"no line {expected!r} in:\n{out}"


def test_deleting_the_deployment_deletes_its_replicasets(k: Kubectl, web: Result) -> None:
    deleted = k.ok("delete", "deployment", "web", "--wait=false")
    assert re.fullmatch(r'deployment\.apps "web" deleted( from \S+ namespace)?\n', deleted)
    gone = k.run("wait", "--for=delete", "replicasets", "-l", "app=web", "--timeout=60s")
    assert gone.code == 0, gone
