"""A user's session with one pod, through the real kubectl and the compose cluster's REST API:
examples/jumpod.yaml applied (created, unchanged, configured) while `kubectl get pods -o wide -w`
prints its rows until it runs; wait, describe with its events, logs (and -f), exec (plain and in
a terminal), label, annotate, the three kinds of patch, edit, debug (an ephemeral container) and
delete. Every assertion is on kubectl's own output and exit code. The tests share the module's
namespace and pod, in order."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.compose_cluster import ROOT, compose
from tests.e2e.kubectl import Kubectl, Lines, Result, Terminal
from tests.e2e.waiting import eventually

JUMPOD = ROOT / "examples" / "jumpod.yaml"
WIDE_HEADER = (
    r"^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES$"
)


@dataclass(frozen=True)
class Applied:
    apply: Result
    watched: list[str]


@pytest.fixture(scope="module")
def k(kubectl_namespace: str) -> Kubectl:
    return Kubectl(kubectl_namespace)


@pytest.fixture(scope="module")
def jumpod(k: Kubectl) -> Applied:
    """`kubectl apply -f examples/jumpod.yaml` while `kubectl get pods -o wide -w` watches the
    namespace, until the watch prints the pod Running."""
    proc = k.popen("get", "pods", "-o", "wide", "-w", "-v=6")
    watch, requests = Lines(proc), Lines(proc, proc.stderr)
    try:
        # -v=6 logs each request once answered: the pod is created once the watch is open.
        # (kubectl 1.31: `GET <url> 200 OK`; later ones: `verb="GET" url="<url>" status="200 OK"`.)
        requests.until(r'GET\S*\s+(url=")?https://\S+/pods\?\S*watch=true"?\s+(status=")?200 OK')
        applied = k.run("apply", "-f", str(JUMPOD))
        assert applied.code == 0, applied
        watched = list(watch.until(r"^jumpod\s+1/1\s+Running\s"))
    finally:
        watch.stop()
    return Applied(applied, watched)


def columns(row: str) -> list[str]:
    return re.split(r"\s{2,}", row.strip())


def test_apply_creates_then_finds_unchanged_then_configures(
    k: Kubectl, jumpod: Applied, tmp_path: Path
) -> None:
    assert jumpod.apply.out == "pod/jumpod created\n"
    assert k.run("apply", "-f", str(JUMPOD)) == Result(0, "pod/jumpod unchanged\n", "")
    labelled = tmp_path / "jumpod.yaml"
    labelled.write_text(
        JUMPOD.read_text().replace("name: jumpod", "name: jumpod\n  labels: {app: jump}")
    )
    assert k.run("apply", "-f", str(labelled)) == Result(0, "pod/jumpod configured\n", "")
    assert k.ok("get", "pods", "-l", "app=jump", "-o", "name") == "pod/jumpod\n"


def test_get_wide_watch_prints_the_rows_until_running(jumpod: Applied) -> None:
    header, *rows = jumpod.watched
    assert re.match(WIDE_HEADER, header), header
    first, last = columns(rows[0]), columns(rows[-1])
    # NAME READY STATUS RESTARTS AGE IP NODE NOMINATED-NODE READINESS-GATES, as created...
    assert first[:4] == ["jumpod", "0/1", "Pending", "0"]
    assert first[5:] == ["<none>", "<none>", "<none>", "<none>"]
    # ...and as it runs: its IP from the node's pod range, its node.
    assert last[:4] == ["jumpod", "1/1", "Running", "0"]
    assert re.fullmatch(r"10\.244\.\d+\.\d+", last[5]), last
    assert re.fullmatch(r"node-\d", last[6]) and last[7:] == ["<none>", "<none>"], last


def test_wait_for_ready_returns_at_once(k: Kubectl, jumpod: Applied) -> None:
    """The pod is Ready already: kubectl wait says so as soon as its watch is open (it used to
    wait for the watch's first event or its timeout, minutes, as the watch's headers waited)."""
    start = time.monotonic()
    # Less the line kubectl's client-go logs when the condition is met while its informer's
    # watch request is still on its way (Kubectl.wait): kubectl's own, as against any cluster.
    result = k.wait("--for=condition=Ready", "pod/jumpod", "--timeout=60s")
    assert result == Result(0, "pod/jumpod condition met\n", "")
    assert time.monotonic() - start < 10


def test_describe_shows_the_pod_and_its_events(
    k: Kubectl, jumpod: Applied, kubectl_namespace: str
) -> None:
    # The kubelet writes its Started event apart from the status the watch saw Running (as
    # test_pod_flow.py waits for it too).
    def described() -> str:
        text = k.ok("describe", "pod", "jumpod")
        return text if "Started container busybox" in text else ""

    out = eventually(described, 30, "the kubelet's Started event in describe")
    assert re.search(r"^Name:\s+jumpod$", out, re.M), out
    assert re.search(rf"^Namespace:\s+{kubectl_namespace}$", out, re.M), out
    assert re.search(r"^Node:\s+node-\d/\d+\.\d+\.\d+\.\d+$", out, re.M), out
    assert re.search(r"^Status:\s+Running$", out, re.M), out
    container_id = r"^  busybox:\n    Container ID:\s+(docker|containerd)://[0-9a-f]{64}$"
    assert re.search(container_id, out, re.M), out
    assert re.search(r"^    Ready:\s+True$", out, re.M), out
    events = out[out.index("Events:") :]
    assert re.search(r"^  Type\s+Reason\s+Age\s+From\s+Message$", events, re.M), events
    assert re.search(
        rf"^  Normal\s+Scheduled\s+\S+\s+default-scheduler\s+"
        rf"Successfully assigned {kubectl_namespace}/jumpod to node-\d$",
        events,
        re.M,
    ), events
    assert re.search(
        r"^  Normal\s+Started\s+\S+\s+kubelet\s+Started container busybox$", events, re.M
    )


def test_exec_prints_the_hostname_and_exits_with_the_commands_code(
    k: Kubectl, jumpod: Applied
) -> None:
    assert k.run("exec", "jumpod", "--", "hostname") == Result(0, "jumpod\n", "")
    failed = k.run("exec", "jumpod", "--", "sh", "-c", "echo out; echo err >&2; exit 3")
    assert failed == Result(3, "out\n", "err\ncommand terminated with exit code 3\n")


def test_exec_it_runs_an_interactive_shell(k: Kubectl, jumpod: Applied) -> None:
    shell = Terminal(k, ("exec", "-it", "jumpod", "--", "sh"), rows=40, cols=120)
    try:
        shell.expect(rb"/ # ")
        shell.type("hostname; stty size")
        shell.expect(rb"jumpod\r\n40 120\r\n")
        shell.type("exit 3")
        assert shell.wait() == 3
        shell.expect(rb"command terminated with exit code 3")
    finally:
        shell.close()


def test_logs_and_logs_follow(k: Kubectl, jumpod: Applied) -> None:
    assert k.run("logs", "jumpod") == Result(0, "", "")  # sleep prints nothing
    created = k.run(
        "run",
        "logger",
        "--image=busybox",
        "--restart=Never",
        "--",
        "sh",
        "-c",
        "i=0; while true; do i=$((i+1)); echo line $i; sleep 0.3; done",
    )
    assert created == Result(0, "pod/logger created\n", "")
    assert k.ok("wait", "--for=condition=Ready", "pod/logger") == "pod/logger condition met\n"
    follow = Lines(k.popen("logs", "-f", "logger"))
    try:
        already = len(follow.until(r"^line 1$"))
        # Lines the container prints after kubectl started following arrive as they come.
        lines = follow.until(rf"^line {already + 5}$", timeout=30)
    finally:
        follow.stop()
    assert lines == [f"line {i}" for i in range(1, len(lines) + 1)]
    assert re.fullmatch(r"line \d+\n", k.ok("logs", "logger", "--tail=1"))


def test_the_log_of_a_container_that_printed_much_then_exited_is_whole(k: Kubectl) -> None:
    """The tail a container wrote just before it exited is in its log (containerd 1.6.20 closed
    the output pipes at the exit before they had drained, and cut it)."""
    created = k.run("run", "printer", "--image=busybox", "--restart=Never", "--", "seq", "30000")
    assert created == Result(0, "pod/printer created\n", "")
    k.ok("wait", "--for=jsonpath={.status.phase}=Succeeded", "pod/printer", "--timeout=120s")
    assert k.ok("logs", "printer") == "".join(f"{n}\n" for n in range(1, 30001))
    k.ok("delete", "pod", "printer", "--grace-period=1")


def test_a_log_past_its_maximum_size_is_rotated_and_goes_with_its_pod(k: Kubectl) -> None:
    """The kubelet rotates a container's log at 10Mi (kubelet/logs/rotation.py): the full file
    gets its time in its name, `kubectl logs` reads the new one, and once the pod is deleted its
    log directory goes from the node."""
    script = (
        "head -c 12000000 /dev/zero | tr '\\0' x | fold -w 1000; "
        "i=0; while :; do i=$((i+1)); echo tick $i; sleep 0.2; done"
    )
    created = k.run("run", "chatty", "--image=busybox", "--", "sh", "-c", script)
    assert created == Result(0, "pod/chatty created\n", "")
    k.ok("wait", "--for=condition=Ready", "pod/chatty", "--timeout=120s")
    node, uid = k.ok(
        "get", "pod", "chatty", "-o", "jsonpath={.spec.nodeName} {.metadata.uid}"
    ).split()
    directory = f"/var/log/pods/{k.namespace}_chatty_{uid}/chatty"

    def files() -> list[str]:
        listed = compose("exec", "-T", node, "ls", directory, check=False).stdout
        return sorted(listed.split())

    deadline = time.monotonic() + 60
    while not any(name.startswith("0.log.") for name in files()):
        assert time.monotonic() < deadline, f"never rotated: {files()}"
        time.sleep(1)
    assert files()[0] == "0.log" and re.fullmatch(r"0\.log\.\d{8}-\d{6}", files()[1]), files()

    def ticking() -> str | None:
        """What `kubectl logs` reads once the container's ticks have reached the new file."""
        out = k.ok("logs", "chatty")
        return out if out.splitlines() and out.splitlines()[-1].startswith("tick ") else None

    # The rotated file has the first 10Mi or more; the current one the rest and the ticks.
    current = eventually(ticking, 30, "a tick in the current log", interval=0.5)
    assert len(current) < 3_000_000 and current.splitlines()[-1].startswith("tick "), current[-200:]
    k.ok("delete", "pod", "chatty", "--grace-period=1")
    deadline = time.monotonic() + 60
    while compose("exec", "-T", node, "test", "-e", directory, check=False).returncode == 0:
        assert time.monotonic() < deadline, f"{directory} still on {node}"
        time.sleep(1)


def test_label_annotate_and_patch(k: Kubectl, jumpod: Applied) -> None:
    assert k.run("label", "pod", "jumpod", "tier=one") == Result(0, "pod/jumpod labeled\n", "")
    refused = k.run("label", "pod", "jumpod", "tier=two")
    assert refused == Result(
        1, "", "error: 'tier' already has a value (one), and --overwrite is false\n"
    )
    assert k.ok("annotate", "pod", "jumpod", "note=hello") == "pod/jumpod annotated\n"
    strategic = k.run("patch", "pod", "jumpod", "-p", '{"metadata":{"labels":{"patched":"s"}}}')
    assert strategic == Result(0, "pod/jumpod patched\n", "")
    merge = k.run(
        "patch", "pod", "jumpod", "--type=merge", "-p", '{"metadata":{"labels":{"patched":"m"}}}'
    )
    assert merge == Result(0, "pod/jumpod patched\n", "")
    json_patch = '[{"op":"add","path":"/metadata/labels/json","value":"yes"}]'
    assert k.ok("patch", "pod", "jumpod", "--type=json", "-p", json_patch) == "pod/jumpod patched\n"
    unchanged = k.run(
        "patch", "pod", "jumpod", "--type=merge", "-p", '{"metadata":{"labels":{"patched":"m"}}}'
    )
    assert unchanged == Result(0, "pod/jumpod patched (no change)\n", "")
    out = k.ok("get", "pod", "jumpod", "--show-labels")
    assert re.search(
        r"^jumpod\s+1/1\s+Running\s+0\s+\S+\s+app=jump,json=yes,patched=m,tier=one$", out, re.M
    ), out
    annotation = k.ok("get", "pod", "jumpod", "-o", "jsonpath={.metadata.annotations.note}")
    assert annotation == "hello"


def test_edit_with_an_editor(k: Kubectl, jumpod: Applied, tmp_path: Path) -> None:
    """kubectl edit as a person does it, the editor being a script that edits the file."""
    editor = tmp_path / "editor"
    editor.write_text("#!/bin/sh\nsed -i 's/^    note: hello$/    note: edited/' \"$1\"\n")
    editor.chmod(0o755)
    edited = k.run("edit", "pod", "jumpod", env={"EDITOR": str(editor)})
    assert edited == Result(0, "pod/jumpod edited\n", "")
    annotation = k.ok("get", "pod", "jumpod", "-o", "jsonpath={.metadata.annotations.note}")
    assert annotation == "edited"
    untouched = k.run("edit", "pod", "jumpod", env={"EDITOR": "true"})
    assert untouched == Result(0, "", "Edit cancelled, no changes made.\n")


def test_debug_runs_an_ephemeral_container(k: Kubectl, jumpod: Applied) -> None:
    """kubectl debug adds a container to the running pod (the pods/ephemeralcontainers
    subresource), attaches to it and prints what it prints."""
    debugged = k.run(
        "debug",
        "jumpod",
        "-i",
        "--image=busybox",
        "-c",
        "debugger",
        "--target=busybox",
        "--",
        "sh",
        "-c",
        "read word; echo got $word; hostname",
        stdin="hi\n",
    )
    assert debugged.code == 0, debugged
    assert debugged.out == (
        'Targeting container "busybox". If you don\'t see processes from this container it may be '
        "because the container runtime doesn't support this feature.\ngot hi\njumpod\n"
    ), debugged
    names = k.ok("get", "pod", "jumpod", "-o", "jsonpath={.spec.ephemeralContainers[*].name}")
    assert names == "debugger"


def test_delete_then_not_found(k: Kubectl, jumpod: Applied, kubectl_namespace: str) -> None:
    deleted = k.run("delete", "pod", "jumpod", "logger", "--grace-period=1")
    assert deleted.code == 0, deleted
    # kubectl 1.33 and later name the namespace too.
    suffix = f"( from {kubectl_namespace} namespace)?"
    assert re.fullmatch(
        f'pod "jumpod" deleted{suffix}\npod "logger" deleted{suffix}\n', deleted.out
    ), deleted
    gone = k.run("get", "pod", "jumpod")
    assert gone == Result(1, "", 'Error from server (NotFound): pods "jumpod" not found\n')
    empty = k.run("get", "pods")
    assert empty == Result(0, "", f"No resources found in {kubectl_namespace} namespace.\n")
