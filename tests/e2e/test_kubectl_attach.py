"""`kubectl attach` and `kubectl debug -i` on the compose cluster: an attach to a container that
has just ended prints nothing twice (the kubelet refuses it before any output, as Kubernetes'
does, or it ends at once); piped stdin reaches the container, and its end ends the container's
process, so kubectl exits by itself (Kubectl.run's deadline) with the output printed once."""

from __future__ import annotations

import json
import time

import pytest

from tests.e2e.kubectl import Kubectl, Result
from tests.e2e.waiting import eventually

# How a refused attach reads, as the kubelet (GetAttach finds running containers only),
# containerd (a container found running an instant before), the apiserver or kubectl (a pod
# they see completed) put it.
REFUSALS = (
    "not found in pod",
    "CONTAINER_EXITED",
    "no running task found",
    "is not running",
    "in a completed pod",
)


@pytest.fixture(scope="module")
def k(kubectl_namespace: str) -> Kubectl:
    return Kubectl(kubectl_namespace)


def lines(out: str, prefix: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith(prefix)]


def started(k: Kubectl, name: str, *args: str) -> None:
    """`kubectl run NAME --restart Never ARGS`, once the pod is Running and Ready."""
    k.ok("run", name, "--image", "busybox", "--restart", "Never", *args)
    k.ok("wait", "--for=condition=Ready", f"pod/{name}", "--timeout=90s")


@pytest.mark.parametrize("after", [0.0, 0.5, 1.0, 1.5])
def test_attach_to_a_container_that_has_just_ended_prints_nothing_twice(
    k: Kubectl, after: float
) -> None:
    """The container ends about a second after the test lets it go, once it is Ready (a fixed
    second from its start could end it before `kubectl wait` sees it Ready, under load):
    attached before, kubectl prints what it writes from then on; refused, nothing at all, and
    Kubernetes' reason."""
    for i in range(3):
        name = f"ending-{int(after * 10)}-{i}"
        held = f"echo first-{i}; until [ -e /tmp/go ]; do sleep 0.05; done; sleep 1; echo last-{i}"
        started(k, name, "--", "sh", "-c", held)
        k.ok("exec", name, "--", "touch", "/tmp/go")
        time.sleep(after)
        result = k.run("attach", name)
        if result.code != 0:
            assert result.out == "", result
            assert any(refusal in result.err for refusal in REFUSALS), result
        assert lines(result.out, "first-") == [], result  # written before the attach
        assert len(lines(result.out, "last-")) <= 1, result
        k.run("delete", "pod", name, "--wait=false")


def test_attach_with_piped_stdin_ends_a_stdin_once_container(k: Kubectl) -> None:
    """`kubectl run -i --attach=false` makes a stdinOnce container; an attach's stdin is its
    stdin, whose end ends `cat`, and kubectl exits by itself."""
    for i in range(3):
        name = f"cat-{i}"
        started(k, name, "-i", "--attach=false", "--", "cat")
        result = k.run("attach", "-i", name, stdin=f"piped-{i}\n", timeout=60)
        assert result.code == 0, result
        assert lines(result.out, "piped-") == [f"piped-{i}"], result
        phase = k.ok("wait", "--for=jsonpath={.status.phase}=Succeeded", f"pod/{name}")
        assert "condition met" in phase
        k.run("delete", "pod", name, "--wait=false")


def debugger_state(k: Kubectl, pod: str, name: str) -> dict[str, object]:
    statuses = json.loads(
        k.ok("get", "pod", pod, "-o", "jsonpath={.status.ephemeralContainerStatuses}") or "[]"
    )
    return next((s["state"] for s in statuses if s["name"] == name), {})


def debug_with_piped_commands(k: Kubectl, name: str, commands: str) -> Result:
    """`kubectl debug target -i --image=busybox -c NAME -- sh` with the commands as its stdin,
    once the debug container has terminated."""
    result = k.run(
        "debug", "target", "-i", "--image=busybox", "-c", name, "--", "sh",
        stdin=commands, timeout=60,
    )  # fmt: skip
    state = eventually(
        lambda: debugger_state(k, "target", name).get("terminated"),
        timeout=30,
        what=f"the debug container {name} terminated",
    )
    assert isinstance(state, dict) and state["exitCode"] == 0, state
    return result


def test_debug_with_piped_commands_ends_its_shell(k: Kubectl) -> None:
    """`echo 'echo hi' | kubectl debug POD -i --image=busybox -- sh`: the shell runs the piped
    commands, reads the end of its stdin and exits; kubectl prints the output once and exits
    with it, and the debug container is terminated."""
    started(k, "target", "--", "sleep", "3600")
    for i in range(3):
        result = debug_with_piped_commands(k, f"piped-{i}", f"echo hi-{i}; echo oops-{i} >&2\n")
        assert result.code == 0, result
        assert lines(result.out, "hi-") == [f"hi-{i}"], result
        assert lines(result.err, "oops-") == [f"oops-{i}"], result
