"""`kubectl run -i --rm` as the README runs it, many times in a row on the compose cluster: every
run prints the command's output, exits with its code and deletes its pod, whether the container
is still running when kubectl attaches or has already ended (kubectl then attaches to an ended
container, or reads its log once the pod has completed)."""

from __future__ import annotations

import pytest

from tests.e2e.compose_cluster import ROOT
from tests.e2e.kubectl import Kubectl, Terminal

RUNS = 50
README_RUNS = 5


@pytest.fixture(scope="module")
def k(kubectl_namespace: str) -> Kubectl:
    """The README's Service: the web Deployment behind `kubectl expose deployment web`."""
    k = Kubectl(kubectl_namespace)
    k.ok("apply", "-f", str(ROOT / "examples" / "web-deployment.yaml"))
    assert k.ok("expose", "deployment", "web", "--port", "80") == "service/web exposed\n"
    rollout = k.run("rollout", "status", "deployment/web", "--timeout=180s")
    assert rollout.code == 0, rollout
    return k


def run_and_remove(k: Kubectl, *command: str) -> str:
    """`kubectl run client --image busybox --restart Never -i --rm -- COMMAND`: its output, once
    it has exited 0 and its pod is gone."""
    result = k.run(
        "run", "client", "--image", "busybox", "--restart", "Never", "-i", "--rm", "--", *command
    )
    assert result.code == 0, result
    gone = k.run("get", "pod", "client", "--ignore-not-found", "-o", "name")
    assert gone.out == "", f"--rm left the pod behind: {gone}"
    return result.out


def test_the_readmes_wget_prints_a_backends_page_every_time(k: Kubectl) -> None:
    """The README's command as it is, a few times, then many times with the container still
    running when kubectl attaches (its output comes through the attach). kubectl prints the log
    before it attaches, and the attach gives the output from then on (as a CRI runtime's does):
    a line written in between, by a container still running at the attach, is lost, on
    Kubernetes as here, so the many runs wait to be attached rather than race it."""
    for i in range(README_RUNS):
        out = run_and_remove(k, "wget", "-qO-", "http://web")
        assert out.startswith("hello from web-"), f"run {i + 1} of {README_RUNS}: {out!r}"
    for i in range(RUNS):
        out = run_and_remove(k, "sh", "-c", "sleep 2 && wget -qO- http://web")
        assert out.startswith("hello from web-"), f"attached run {i + 1} of {RUNS}: {out!r}"


def test_a_command_that_exits_at_once_prints_its_output_every_time(k: Kubectl) -> None:
    for i in range(10):
        out = run_and_remove(k, "echo", f"hi-{i}")
        assert f"hi-{i}\n" in out, f"run {i + 1}: {out!r}"


def test_the_exit_code_of_a_failing_command_is_kubectls(k: Kubectl) -> None:
    result = k.run(
        "run", "client", "--image", "busybox", "--restart", "Never", "-i", "--rm", "--",
        "sh", "-c", "echo before-failing; exit 3",
    )  # fmt: skip
    # kubectl run.go: a Failed pod's container exit code is kubectl's, with its reason.
    assert result.code == 3 and "before-failing\n" in result.out, result
    assert f"pod {k.namespace}/client terminated (Error)" in result.err, result
    assert k.run("get", "pod", "client", "--ignore-not-found", "-o", "name").out == ""


def test_a_shell_in_a_terminal_answers_and_its_exit_code_is_kubectls(k: Kubectl) -> None:
    """`kubectl run -it --rm ... -- sh` as a person types it: the shell's prompt shows (written
    before the attach arrived, it is replayed), it runs what is typed, and `exit 3` ends kubectl
    with the shell's code and deletes the pod."""
    shell = Terminal(
        k, ("run", "shell", "-it", "--rm", "--image", "busybox", "--restart", "Never", "--", "sh")
    )
    try:
        shell.expect(rb"/ # ", timeout=90)
        shell.type("echo tty-$((40 + 2))")
        shell.expect(rb"tty-42")
        shell.type("exit 3")
        assert shell.wait(timeout=90) == 3, bytes(shell.seen)
    finally:
        shell.close()
    assert k.run("get", "pod", "shell", "--ignore-not-found", "-o", "name").out == ""
