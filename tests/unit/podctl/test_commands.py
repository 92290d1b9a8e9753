"""The verbs end to end against an in-memory apiserver: what a user types and what they read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from podctl.__main__ import run
from podplane.api.core.v1 import core_pb2
from tests.support import free_port
from tests.unit.podctl.fakes import FakeClient, obj

JUMPOD = """\
apiVersion: v1
kind: Pod
metadata:
  name: jumpod
  labels: {app: jump}
spec:
  containers:
  - name: app
    image: busybox:1.36
    command: ["sleep", "3600"]
"""


@pytest.fixture
def cluster() -> FakeClient:
    return FakeClient()


@pytest.fixture
def jumpod(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    path = Path("jumpod.yaml")
    path.write_text(JUMPOD)
    return path


def podctl(cluster: FakeClient, *argv: str) -> int:
    return run(list(argv), connector=cluster.connector())


def test_apply_creates_then_is_unchanged_then_configures(
    cluster: FakeClient, jumpod: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert podctl(cluster, "apply", "-f", str(jumpod)) == 0
    assert podctl(cluster, "apply", "-f", str(jumpod)) == 0
    jumpod.write_text(JUMPOD.replace("busybox:1.36", "busybox:1.37"))
    assert podctl(cluster, "apply", "-f", str(jumpod)) == 0
    assert capsys.readouterr().out == (
        "pod/jumpod created\npod/jumpod unchanged\npod/jumpod configured\n"
    )
    stored = cluster.pods.store[("default", "jumpod")]
    assert stored.spec.containers[0].image == "busybox:1.37"


def test_apply_many_documents_from_a_directory(
    cluster: FakeClient, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a.yaml").write_text(JUMPOD + "---\n" + JUMPOD.replace("jumpod", "other"))
    (tmp_path / "b.json").write_text(
        json.dumps({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a"}})
    )
    (tmp_path / "notes.txt").write_text("not a manifest")
    assert podctl(cluster, "apply", "-f", str(tmp_path)) == 0
    assert capsys.readouterr().out == (
        "pod/jumpod created\npod/other created\nnamespace/team-a created\n"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "kind: Pod\n  bad: [indent\n",
            "error: error parsing jumpod.yaml: error parsing YAML at line 2",
        ),
        (
            JUMPOD.replace("image:", "imagePullPolcy: Always\n    image:"),
            'error: error validating "jumpod.yaml": '
            'unknown field "spec.containers[0].imagePullPolcy"',
        ),
        (
            JUMPOD.replace("kind: Pod", "kind: Pdo"),
            'error: resource mapping not found for name: "jumpod" '
            'namespace: "" from "jumpod.yaml": '
            'no matches for kind "Pdo" in version "v1"',
        ),
    ],
    ids=["malformed yaml", "unknown field", "unknown kind"],
)
def test_bad_manifest_is_one_line_on_stderr(
    cluster: FakeClient, jumpod: Path, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    jumpod.write_text(text)
    assert podctl(cluster, "apply", "-f", "jumpod.yaml") == 1
    err = capsys.readouterr().err
    assert err.startswith(message)
    assert len(err.splitlines()) == 1
    assert not cluster.pods.store


def test_create_twice_says_already_exists(
    cluster: FakeClient, jumpod: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert podctl(cluster, "create", "-f", "jumpod.yaml") == 0
    assert podctl(cluster, "create", "-f", "jumpod.yaml") == 1
    out, err = capsys.readouterr()
    assert out == "pod/jumpod created\n"
    assert err == (
        'Error from server (AlreadyExists): error when creating "jumpod.yaml": '
        'pods "jumpod" already exists\n'
    )


def test_namespace_flag_must_agree_with_the_manifest(
    cluster: FakeClient, jumpod: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    jumpod.write_text(JUMPOD.replace("name: jumpod", "name: jumpod\n  namespace: team-a"))
    assert podctl(cluster, "apply", "-n", "team-b", "-f", "jumpod.yaml") == 1
    assert (
        'the namespace from the provided object "team-a" does not match the namespace '
        '"team-b"' in capsys.readouterr().err
    )


def test_get_pods_table_and_outputs(
    cluster: FakeClient, jumpod: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    podctl(cluster, "apply", "-f", "jumpod.yaml")
    capsys.readouterr()
    assert podctl(cluster, "get", "pods") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert lines[1].split()[:2] == ["jumpod", "0/1"]

    assert podctl(cluster, "get", "po", "jumpod", "-o", "name") == 0
    assert capsys.readouterr().out == "pod/jumpod\n"

    assert podctl(cluster, "get", "pod/jumpod", "-o", "yaml") == 0
    document = yaml.safe_load(capsys.readouterr().out)
    assert (document["apiVersion"], document["kind"]) == ("v1", "Pod")
    assert document["metadata"]["labels"] == {"app": "jump"}

    assert podctl(cluster, "get", "pods", "-o", "json") == 0
    listing = json.loads(capsys.readouterr().out)
    assert listing["kind"] == "List"
    assert [i["metadata"]["name"] for i in listing["items"]] == ["jumpod"]


def test_get_status_column_from_the_stored_pod(
    cluster: FakeClient, capsys: pytest.CaptureFixture[str]
) -> None:
    cluster.pods.store[("default", "jumpod")] = obj(
        core_pb2.Pod,
        {
            "metadata": {"name": "jumpod", "namespace": "default"},
            "spec": {"containers": [{"name": "app", "image": "busybox"}]},
            "status": {
                "phase": "Pending",
                "containerStatuses": [
                    {"name": "app", "state": {"waiting": {"reason": "ContainerCreating"}}}
                ],
            },
        },
    )
    assert podctl(cluster, "get", "pods", "--no-headers") == 0
    assert capsys.readouterr().out.split() == [
        "jumpod",
        "0/1",
        "ContainerCreating",
        "0",
        "<unknown>",
    ]


def test_get_missing_and_empty(cluster: FakeClient, capsys: pytest.CaptureFixture[str]) -> None:
    assert podctl(cluster, "get", "pods", "nope") == 1
    assert capsys.readouterr().err == 'Error from server (NotFound): pods "nope" not found\n'
    assert podctl(cluster, "get", "pods") == 0
    assert capsys.readouterr().err == "No resources found in default namespace.\n"
    assert podctl(cluster, "get", "nodes") == 0
    assert capsys.readouterr().err == "No resources found\n"
    assert podctl(cluster, "get", "gateways") == 1
    assert capsys.readouterr().err == 'error: the server doesn\'t have a resource type "gateways"\n'


def test_delete_waits_until_gone(
    cluster: FakeClient, jumpod: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    podctl(cluster, "apply", "-f", "jumpod.yaml")
    assert podctl(cluster, "delete", "pod", "jumpod") == 0
    assert capsys.readouterr().out.endswith('pod "jumpod" deleted\n')
    assert cluster.pods.deleted == [("default", "jumpod", None)]
    assert podctl(cluster, "delete", "pod", "jumpod") == 1
    assert capsys.readouterr().err == 'Error from server (NotFound): pods "jumpod" not found\n'


def test_delete_gives_up_waiting_after_the_timeout(
    cluster: FakeClient, jumpod: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    podctl(cluster, "apply", "-f", "jumpod.yaml")
    cluster.pods.graceful = True
    assert podctl(cluster, "delete", "pod", "jumpod", "--timeout", "1s") == 1
    out, err = capsys.readouterr()
    assert out.endswith('pod "jumpod" deleted\n')
    assert err == "error: timed out waiting for the condition on pods/jumpod\n"
    assert podctl(cluster, "delete", "pod", "jumpod", "--wait=false") == 0


def test_force_delete(
    cluster: FakeClient, jumpod: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    podctl(cluster, "apply", "-f", "jumpod.yaml")
    assert podctl(cluster, "delete", "-f", "jumpod.yaml", "--force") == 0
    out, err = capsys.readouterr()
    assert out.endswith('pod "jumpod" force deleted\n')
    assert err.startswith("Warning: Immediate deletion does not wait")
    assert cluster.pods.deleted == [("default", "jumpod", 0)]


def test_watch_prints_one_row_per_change_without_repeating_the_header(
    cluster: FakeClient, jumpod: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    podctl(cluster, "apply", "-f", "jumpod.yaml")
    capsys.readouterr()
    pod = cluster.pods.store[("default", "jumpod")]
    pod.status.phase = "Pending"
    creating, running = core_pb2.Pod(), core_pb2.Pod()
    creating.CopyFrom(pod)
    creating.status.container_statuses.add(name="app").state.waiting.reason = "ContainerCreating"
    running.CopyFrom(pod)
    running.status.phase = "Running"
    cluster.pods.watch_events = [
        ("MODIFIED", creating),
        ("BOOKMARK", pod),
        ("MODIFIED", running),
        ("DELETED", running),
    ]
    assert podctl(cluster, "get", "pods", "-w", "--no-headers") == 0
    statuses = [line.split()[2] for line in capsys.readouterr().out.splitlines()]
    assert statuses == ["Pending", "ContainerCreating", "Running", "Running"]
    assert cluster.pods.watched_from == ["100"]  # from the listing's resourceVersion

    assert podctl(cluster, "get", "pods", "--watch-only") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert [line.split()[2] for line in lines[1:]] == ["ContainerCreating", "Running", "Running"]


def test_logs_are_raw_bytes(
    cluster: FakeClient, jumpod: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    podctl(cluster, "apply", "-f", "jumpod.yaml")
    capsysbinary.readouterr()
    cluster.logs[("default", "jumpod", "app")] = b"hello\n\xff\x00raw\n"
    assert podctl(cluster, "logs", "jumpod") == 0
    assert capsysbinary.readouterr().out == b"hello\n\xff\x00raw\n"
    assert podctl(cluster, "logs", "node/n1") == 1
    assert capsysbinary.readouterr().err == (
        b"error: cannot get the logs from Node: selector for Node not implemented\n"
    )


def test_describe_pod_prefix_and_missing(
    cluster: FakeClient, jumpod: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    podctl(cluster, "apply", "-f", "jumpod.yaml")
    capsys.readouterr()
    assert podctl(cluster, "describe", "pod", "jum") == 0
    out = capsys.readouterr().out
    assert out.startswith("Name:         jumpod\nNamespace:    default\n")
    assert "Tolerations:      <none>\nEvents:           <none>\n" in out
    assert podctl(cluster, "describe", "pod", "nope") == 1
    assert capsys.readouterr().err == 'Error from server (NotFound): pods "nope" not found\n'


def test_connection_refused(capsys: pytest.CaptureFixture[str]) -> None:
    server = f"127.0.0.1:{free_port()}"
    assert run(["--server", server, "get", "pods"]) == 1
    assert capsys.readouterr().err == (
        f"The connection to the server {server} was refused - did you specify the right host or "
        "port?\n"
    )
