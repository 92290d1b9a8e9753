"""`kubectl run -i --rm` as the README runs it, many times in a row on the compose cluster: every
run prints the command's output exactly once, exits with its code and deletes its pod, whether the
container is still running when kubectl attaches (the attach gives its output) or has already
ended (the pod went from ContainerCreating to Succeeded, and kubectl reads its log); and piped
stdin reaches the command, whose end ends it."""

from __future__ import annotations

import pytest

from tests.e2e.compose_cluster import ROOT
from tests.e2e.kubectl import Kubectl, Result, Terminal

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


def run_and_remove(k: Kubectl, *command: str, stdin: str | None = None) -> Result:
    """`kubectl run client --image busybox --restart Never -i --rm -- COMMAND`, once it has exited
    0 by itself and its pod is gone."""
    result = k.run(
        "run", "client", "--image", "busybox", "--restart", "Never", "-i", "--rm", "--", *command,
        stdin=stdin,
    )  # fmt: skip
    assert result.code == 0, result
    gone = k.run("get", "pod", "client", "--ignore-not-found", "-o", "name")
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
    with no output rather than a refusal (kubelet/server/attach.py, EndedProcess). Only a pod
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


def test_the_readmes_wget_prints_a_backends_page_once_every_time(k: Kubectl) -> None:
    """The README's command as it is, a few times, then many times with the container still
    running when kubectl attaches (its output comes through the attach, exactly once). kubectl
    prints the log before it attaches, and the attach gives the output from then on (as a CRI
    runtime's does): a line written in between, by a container still running at the attach, is
    lost, on Kubernetes as here, so the many runs wait to be attached rather than race it."""
    once = PrintedOnce()
    for i in range(README_RUNS):
        out = run_and_remove(k, "wget", "-qO-", "http://web")
        assert out.out.startswith("hello from web-"), f"run {i + 1} of {README_RUNS}: {out}"
        once.check(out, lines(out.out, "hello from web-")[0])
    for i in range(RUNS):
        out = run_and_remove(k, "sh", "-c", "sleep 2 && wget -qO- http://web")
        assert out.out.startswith("hello from web-"), f"attached run {i + 1} of {RUNS}: {out}"
        assert len(lines(out.out, "hello from web-")) == 1, f"attached run {i + 1}: {out}"
        assert "falling back" not in out.err, f"attached run {i + 1}: {out}"


def test_a_command_that_exits_at_once_prints_its_output_once_every_time(k: Kubectl) -> None:
    once = PrintedOnce()
    for i in range(RUNS):
        once.check(run_and_remove(k, "echo", f"hi-{i}"), f"hi-{i}")


def test_piped_stdin_reaches_the_command_whose_end_ends_it(k: Kubectl) -> None:
    """kubectl run -i makes its container stdinOnce: the end of kubectl's stdin is the end of the
    command's, and kubectl exits by itself (Kubectl.run's deadline), the input printed once."""
    once = PrintedOnce()
    for i in range(5):
        once.check(run_and_remove(k, "cat", stdin=f"piped-{i}\n"), f"piped-{i}")


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
