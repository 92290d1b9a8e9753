"""Bad input from outside the API, through the real programs: each service started with a bad
setting exits at once, naming it, without a traceback; the podctl binary given bad manifests prints
one line per failure, exits non-zero, and changes nothing on a real apiserver."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from apiserver.server import APIServer
from podplane.client.clientset import Client
from tests.support import new_namespace

PODCTL = str(Path(sys.executable).with_name("podctl"))


async def _run(*argv: str, timeout: float = 30) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    async with asyncio.timeout(timeout):
        out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


@pytest.mark.parametrize(
    ("module", "argv", "setting"),
    [
        ("apiserver", ["--etcd-servers", "etcd:2379"], "--etcd-servers"),
        ("apiserver", ["--etcd-servers", "http://127.0.0.1:2379", "--port", "70000"], "--port"),
        ("scheduler", ["--server", "apiserver:6443", "--bind-address", "zz/zz"], "--bind-address"),
        (
            "controller",
            ["--server", "apiserver:6443", "--cluster-cidr", "10.0.0.0/33"],
            "--cluster-cidr",
        ),
        (
            "kubelet",
            ["--server", "apiserver:6443", "--node-name", "Node_1", "--pod-cidr", "10.244.1.0/24"],
            "--node-name",
        ),
        (
            "kubelet",
            [
                "--server",
                "apiserver:6443",
                "--node-name",
                "node-1",
                "--pod-cidr",
                "10.244.1.0/24",
                "--kube-reserved",
                "memory=lots",
            ],
            "--kube-reserved",
        ),
    ],
)
async def test_a_service_with_a_bad_setting_exits_naming_it(
    module: str, argv: list[str], setting: str
) -> None:
    code, _, err = await _run(sys.executable, "-m", module, *argv)
    assert code == 2, err
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    prog = "controller-manager" if module == "controller" else module
    assert last.startswith(f"{prog}: error: ") and setting in last, err


GOOD = """apiVersion: v1
kind: ConfigMap
metadata: {name: good}
data: {a: "1"}
"""
BAD_MANIFESTS = {
    "malformed.yaml": ("kind: Pod\n  bad: [indent\n", "error parsing"),
    "unknown-kind.yaml": (
        "apiVersion: v1\nkind: Widget\nmetadata: {name: w}\n",
        'no matches for kind "Widget" in version "v1"',
    ),
    "apps-v2.yaml": (
        "apiVersion: apps/v2\nkind: Deployment\nmetadata: {name: d}\n",
        '(expected apiVersion "apps/v1")',
    ),
    "not-a-mapping.yaml": ("- 1\n- 2\n", "a manifest must be an object"),
    "empty.yaml": ("", "no objects passed to apply"),
    "mixed.yaml": (
        GOOD + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: bad}\ndata: {a: [1]}\n",
        "(document 2): data[a]: expected string, got array",
    ),
}


@pytest.mark.parametrize("name", list(BAD_MANIFESTS))
async def test_podctl_apply_of_a_bad_manifest_is_one_line_and_changes_nothing(
    apiserver: APIServer, client: Client, tmp_path: Path, name: str
) -> None:
    namespace = await new_namespace(client, "bad-manifest-")
    text, expected = BAD_MANIFESTS[name]
    path = tmp_path / name
    path.write_text(text)
    code, out, err = await _run(
        PODCTL, "apply", "-f", str(path), "-n", namespace, "--server", f"127.0.0.1:{apiserver.port}"
    )
    assert code == 1, (out, err)
    assert err.count("\n") == 1 and err.startswith("error: ") and "Traceback" not in err, err
    assert expected in err and (name in err or name == "empty.yaml"), err
    assert not (await client.configmaps.list(namespace)).items


async def test_podctl_reports_the_servers_field_error_in_one_line(
    apiserver: APIServer, client: Client, tmp_path: Path
) -> None:
    """A manifest that decodes but that the apiserver refuses: kubectl's `The Pod "x" is
    invalid: <field>: ...` line, from a real apiserver."""
    namespace = await new_namespace(client, "bad-manifest-")
    path = tmp_path / "pod.yaml"
    path.write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  restartPolicy: Sometimes\n"
        "  containers: [{name: c, image: busybox}]\n"
    )
    code, _, err = await _run(
        PODCTL, "apply", "-f", str(path), "-n", namespace, "--server", f"127.0.0.1:{apiserver.port}"
    )
    assert code == 1
    assert err == (
        'The Pod "p" is invalid: spec.restartPolicy: Unsupported value: "Sometimes": '
        'supported values: "Always", "OnFailure", "Never"\n'
    ), err
