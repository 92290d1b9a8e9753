"""The highly available profile brought up by `make up-ha` (docker-compose.ha.yml): three
control-plane machines cp-1..cp-3 behind the load balancer `lb`, published on the host's loopback
(gRPC on 9441, the REST API on 9443). How to reach it, run `docker`, `kubectl` and `etcdctl`
against it, find and kill a static pod's container on a machine (in its containerd's k8s.io
namespace, or its Docker engine with PODPLANE_CONTAINER_RUNTIME=docker), find the etcd leader,
and tell when it is whole. Shared by its benchmark
(bench/high_availability/benchmark.py) and its end-to-end tests (tests/e2e_ha)."""

from __future__ import annotations

import functools
import itertools
import json
import os
import subprocess
from pathlib import Path

from podplane.apimachinery.json_types import JSONObject
from podplane.client.credentials import Credentials

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.ha.yml"
SERVER = f"localhost:{os.environ.get('PODPLANE_HA_GRPC_PORT', '9441')}"
KUBECONFIG = ROOT / "build" / "ha" / "kubeconfig"
PKI = ROOT / "build" / "ha" / "pki"
ADMIN = Credentials(str(PKI / "ca.crt"), str(PKI / "admin.crt"), str(PKI / "admin.key"))
KUBECTL = ROOT / ".venv" / "bin" / "kubectl"
MEMBERS = {"cp-1": "10.250.0.11", "cp-2": "10.250.0.12", "cp-3": "10.250.0.13"}
COMPONENTS = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler")
MANIFESTS = "/etc/kubernetes/manifests"
PKI_IN_POD = "/etc/kubernetes/pki"


def compose(
    *args: str, check: bool = True, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker", "compose", "-f", str(COMPOSE_FILE), *args],
        cwd=ROOT,
        check=check,
        text=True,
        capture_output=True,
        timeout=timeout,
    )


def kubectl(
    *args: str, check: bool = True, timeout: float = 60, input_text: str | None = None
) -> subprocess.CompletedProcess[str]:
    """kubectl against the load balancer; `input_text`: its standard input (`-f -`)."""
    return subprocess.run(
        [str(KUBECTL), f"--kubeconfig={KUBECONFIG}", "--request-timeout=10s", *args],
        input=input_text,
        check=check,
        text=True,
        capture_output=True,
        timeout=timeout,
    )


def machine(member: str, *command: str, check: bool = True) -> str:
    """Runs a command inside a control-plane machine (its container)."""
    return compose("exec", "-T", member, *command, check=check).stdout


@functools.cache
def runtime(member: str) -> str:
    """What the machine's kubelet runs pods with: containerd or docker (its CONTAINER_RUNTIME)."""
    found = machine(member, "printenv", "CONTAINER_RUNTIME", check=False).strip()
    return found or "docker"


def _ctr(member: str, *args: str) -> str:
    return machine(member, "ctr", "-n", "k8s.io", *args)


# Prints "COMPONENT CONTAINER" for each static pod container running on the machine (its
# arguments: the machine's name, the components), in one exec: a ctr filter per component with
# every label in it (ctr ORs separate filters, ANDs a filter's parts), kept if its task runs.
_RUNNING_STATIC_PODS = r"""
member=$1; shift
running=$(ctr -n k8s.io tasks list | awk 'NR > 1 && $NF == "RUNNING" { print $1 }')
for component; do
  selector="labels.\"io.kubernetes.container.name\"==$component"
  selector+=",labels.\"io.kubernetes.pod.name\"==$component-$member"
  selector+=",labels.\"io.kubernetes.pod.namespace\"==kube-system"
  for container in $(ctr -n k8s.io containers list -q "$selector"); do
    if grep -qxF "$container" <<<"$running"; then echo "$component $container"; fi
  done
done
"""


def running_components(member: str) -> dict[str, str]:
    """The static pods' containers running on a machine, as its own runtime lists them:
    component -> container id."""
    running = {}
    if runtime(member) == "containerd":
        out = machine(member, "bash", "-c", _RUNNING_STATIC_PODS, "-", member, *COMPONENTS)
        for line in out.splitlines():
            component, _, container = line.partition(" ")
            running[component] = container
        return running
    out = machine(member, "docker", "ps", "--no-trunc", "--format", "{{.ID}} {{.Names}}")
    for line in out.splitlines():
        container, name = line.split(" ", 1)
        for component in COMPONENTS:
            if name.startswith(f"k8s_{component}_{component}-{member}_kube-system_"):
                running[component] = container
    return running


def container_of(member: str, component: str) -> str:
    """The id of the running container of a static pod's component on a machine ('' if none)."""
    return running_components(member).get(component, "")


def kill_container(member: str, container: str) -> None:
    """SIGKILL to a container's process on a machine, as a crash would end it."""
    if runtime(member) == "containerd":
        _ctr(member, "tasks", "kill", "--signal", "SIGKILL", container)
    else:
        machine(member, "docker", "kill", container)


_exec_ids = itertools.count()


def in_container(member: str, container: str, *command: str) -> list[str]:
    """The command line that runs `command` inside a container of a machine."""
    if runtime(member) == "containerd":
        exec_id = f"e2e-{os.getpid()}-{next(_exec_ids)}"
        return ["ctr", "-n", "k8s.io", "tasks", "exec", "--exec-id", exec_id, container, *command]
    return ["docker", "exec", container, *command]


def etcdctl(member: str, *args: str, endpoints: str = "https://127.0.0.1:2379") -> str:
    """etcdctl in the etcd container of `member`, with its certificate."""
    etcd = container_of(member, "etcd")
    assert etcd, f"no etcd container on {member}"
    return machine(
        member,
        *in_container(member, etcd, "etcdctl"),
        f"--endpoints={endpoints}",
        f"--cacert={PKI_IN_POD}/ca.crt",
        f"--cert={PKI_IN_POD}/etcd-server.crt",
        f"--key={PKI_IN_POD}/etcd-server.key",
        "--command-timeout=5s",
        *args,
    )


def endpoint_status(asking: str, members: list[str]) -> dict[str, dict[str, int | bool]]:
    """Each member's view through `asking`'s etcdctl: whether it leads, and its Raft indexes."""
    endpoints = ",".join(f"https://{MEMBERS[m]}:2379" for m in members)
    out = etcdctl(asking, "endpoint", "status", "-w", "json", endpoints=endpoints)
    by_address = {f"https://{a}:2379": m for m, a in MEMBERS.items()}
    status: dict[str, dict[str, int | bool]] = {}
    for entry in json.loads(out):
        s = entry["Status"]
        status[by_address[entry["Endpoint"]]] = {
            "leader": s["leader"] == s["header"]["member_id"],
            "raft_index": int(s["raftIndex"]),
            "raft_applied_index": int(s.get("raftAppliedIndex", s["raftIndex"])),
        }
    return status


def etcd_leader() -> str:
    """The machine whose etcd member leads."""
    status = endpoint_status("cp-1", list(MEMBERS))
    leaders = [m for m, s in status.items() if s["leader"]]
    assert len(leaders) == 1, f"no single etcd leader: {status}"
    return leaders[0]


def _control_plane_items() -> dict[str, JSONObject]:
    pods = json.loads(kubectl("get", "pods", "-n", "kube-system", "-o", "json").stdout)["items"]
    return {
        pod["metadata"]["name"]: pod
        for pod in pods
        if pod["metadata"].get("labels", {}).get("tier") == "control-plane"
    }


def _phase_ready(pod: JSONObject) -> tuple[str, bool]:
    conditions = pod["status"].get("conditions", [])
    ready = any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)
    return pod["status"].get("phase", ""), ready


def control_plane_pods() -> dict[str, tuple[str, bool]]:
    """kube-system's control-plane pods as the API shows them: name -> (phase, ready)."""
    return {name: _phase_ready(pod) for name, pod in _control_plane_items().items()}


def whole() -> bool:
    """Every machine's four components Running and ready as the API shows them, and what the API
    shows is current: each mirror pod's container is the one running on its machine now (a
    machine just restarted still has its old pods' statuses until its kubelet reports)."""
    pods = _control_plane_items()
    for member in MEMBERS:
        running = running_components(member)
        for component in COMPONENTS:
            pod = pods.get(f"{component}-{member}")
            if pod is None or _phase_ready(pod) != ("Running", True):
                return False
            statuses = pod["status"].get("containerStatuses", [])
            if component not in running or not any(
                s.get("containerID") == f"{runtime(member)}://{running[component]}"
                for s in statuses
            ):
                return False
    return True


def caught_up(member: str) -> bool:
    """`member`'s etcd is in the cluster and has applied (nearly) what the others have."""
    others = [m for m in MEMBERS if m != member]
    status = endpoint_status(others[0], list(MEMBERS))
    newest = max(int(s["raft_applied_index"]) for s in status.values())
    return int(status[member]["raft_applied_index"]) >= newest - 5
