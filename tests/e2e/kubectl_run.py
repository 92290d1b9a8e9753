"""What the `kubectl run -i --rm` tests share (test_kubectl_run.py, test_kubectl_run_attached.py):
the README's Service, one run that must exit 0 and leave no pod, and the check that a run printed
its command's output once."""

from __future__ import annotations

from tests.e2e.compose_cluster import ROOT
from tests.e2e.kubectl import Kubectl, Result
from tests.e2e.proxy_rules import wait_for_cluster_ip_on_every_node

RUNS = 50
README_RUNS = 5


def web_service(namespace: str) -> Kubectl:
    """The README's Service: the web Deployment behind `kubectl expose deployment web`, in
    `namespace`, once every node's rules hold its three pods; kubectl in that namespace."""
    k = Kubectl(namespace)
    k.ok("apply", "-f", str(ROOT / "examples" / "web-deployment.yaml"))
    assert k.ok("expose", "deployment", "web", "--port", "80") == "service/web exposed\n"
    rollout = k.run("rollout", "status", "deployment/web", "--timeout=180s")
    assert rollout.code == 0, rollout
    cluster_ip = k.ok("get", "service", "web", "-o", "jsonpath={.spec.clusterIP}")
    pod_ips = k.ok("get", "pods", "-l", "app=web", "-o", "jsonpath={.items[*].status.podIP}")
    wait_for_cluster_ip_on_every_node(cluster_ip, 80, {f"{ip}:80" for ip in pod_ips.split()})
    return k


def run_and_remove(
    k: Kubectl, *command: str, stdin: str | None = None, name: str = "client"
) -> Result:
    """`kubectl run client --image busybox --restart Never -i --rm -- COMMAND` (a pod named
    `name`), once it has exited 0 by itself and its pod is gone."""
    result = k.run(
        "run", name, "--image", "busybox", "--restart", "Never", "-i", "--rm", "--", *command,
        stdin=stdin,
    )  # fmt: skip
    assert result.code == 0, result
    gone = k.run("get", "pod", name, "--ignore-not-found", "-o", "name")
    assert gone.out == "", f"--rm left the pod behind: {gone}"
    return result


def lines(out: str, prefix: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith(prefix)]


class PrintedOnce:
    """Checks that each run printed the command's output once. kubectl 1.35 and 1.36 print the
    log before they attach, and all of it again when the attach is refused
    (kubernetes/kubectl#1848; before, every run here did). A short command's pod goes from
    ContainerCreating to Succeeded (kubelet/pod/sync.py, PodSyncer._relisted), so kubectl reads
    its log once; if a relist found it running just before it ended, kubectl attaches to a
    container that has ended while the pod still shows it running, which the kubelet answers
    with what the log kubectl read lacks rather than a refusal (kubelet/server/attach.py,
    EndedProcess; that is the whole output if the command wrote after the read). Only a pod
    whose end is stored between kubectl's log and its attach (the apiserver then refuses an
    attach to a completed pod) is printed twice still: once in a run at most."""

    def __init__(self) -> None:
        self.doubled: list[Result] = []

    def check(self, result: Result, line: str) -> None:
        printed = lines(result.out, line)
        refused = "couldn't attach to pod/client, falling back to streaming logs" in result.err
        if printed == [line, line] and refused:
            self.doubled.append(result)
        else:
            assert printed == [line], result
        assert len(self.doubled) <= 1, "\n".join(str(r) for r in self.doubled)
