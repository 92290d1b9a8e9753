"""`kubectl run -i --rm` as the README runs it, many times in a row on the compose cluster: every
run prints the command's output exactly once, exits with its code and deletes its pod, whether the
container has already ended when kubectl attaches (the pod went from ContainerCreating to
Succeeded, and kubectl reads its log) or is still running (test_kubectl_run_attached.py); and
piped stdin reaches the command, whose end ends it."""

from __future__ import annotations

import pytest

from tests.e2e.kubectl import Kubectl, Terminal
from tests.e2e.kubectl_run import README_RUNS, RUNS, PrintedOnce, lines, run_and_remove, web_service


@pytest.fixture(scope="module")
def k(kubectl_namespace: str) -> Kubectl:
    return web_service(kubectl_namespace)


def test_the_readmes_wget_prints_a_backends_page_once_every_time(k: Kubectl) -> None:
    """The README's command as it is, a few times."""
    once = PrintedOnce()
    for i in range(README_RUNS):
        out = run_and_remove(k, "wget", "-qO-", "http://web")
        assert out.out.startswith("hello from web-"), f"run {i + 1} of {README_RUNS}: {out}"
        once.check(out, lines(out.out, "hello from web-")[0])


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
