"""The add-ons as the highly available profile applies them (adm/addons.py): docker/addons with
the control plane's endpoint as every add-on's apiserver, and nothing else changed."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from adm.__main__ import ADDONS, main
from adm.addons import render, with_server


def servers(documents: list[dict[str, Any]]) -> dict[str, list[str]]:
    """kind/name -> the --server= arguments of its pod template's containers."""
    found = {}
    for d in documents:
        spec = d.get("spec", {}).get("template", {}).get("spec")
        if spec:
            found[f"{d['kind']}/{d['metadata']['name']}"] = [
                a
                for c in spec["containers"]
                for a in c.get("command", []) + c.get("args", [])
                if a.startswith("--server")
            ]
    return found


def test_kube_proxy_the_cluster_dns_and_the_metrics_server_talk_to_the_endpoint_given() -> None:
    documents = render([ADDONS], "lb:6444")
    assert servers(documents) == {
        "Deployment/coredns": ["--server=lb:6444"],
        "DaemonSet/kube-proxy": ["--server=lb:6444"],
        "Deployment/metrics-server": ["--server=lb:6444"],
        "Deployment/ingress-haproxy": ["--server=lb:6444"],
    }


def test_everything_else_is_as_the_default_profile_applies_it() -> None:
    default = [
        d for f in sorted(ADDONS.glob("*.yaml")) for d in yaml.safe_load_all(f.read_text()) if d
    ]
    rendered = render([ADDONS], "lb:6444")
    assert [(d["kind"], d["metadata"]["name"]) for d in rendered] == [
        (d["kind"], d["metadata"]["name"]) for d in default
    ]
    # The default profile's own address comes back unchanged when given again.
    assert render([ADDONS], "apiserver:6444") == default


def test_args_and_init_containers_are_rewritten_too_and_lookalikes_are_not() -> None:
    document: dict[str, Any] = {
        "kind": "DaemonSet",
        "metadata": {"name": "agent"},
        "spec": {
            "template": {
                "spec": {
                    "initContainers": [{"name": "wait", "args": ["--server=old:1", "--x=1"]}],
                    "containers": [
                        {"name": "a", "command": ["run", "--server-name=keep", "--server=old:1"]},
                        {"name": "b", "image": "busybox"},
                    ],
                }
            }
        },
    }
    before = copy.deepcopy(document)
    pod = with_server(document, "lb:6444")["spec"]["template"]["spec"]
    assert pod["initContainers"][0]["args"] == ["--server=lb:6444", "--x=1"]
    assert pod["containers"][0]["command"] == ["run", "--server-name=keep", "--server=lb:6444"]
    # No command or args appear where there were none.
    assert pod["containers"][1] == before["spec"]["template"]["spec"]["containers"][1]


def test_the_command_prints_a_stream_kubectl_applies(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["addons", "--server", "10.0.0.1:6444"]) == 0
    printed = list(yaml.safe_load_all(capsys.readouterr().out))
    assert printed == render([ADDONS], "10.0.0.1:6444")

    assert main(["addons", "--server", "lb:6444", str(tmp_path / "missing")]) == 2
    assert "no such file or folder" in capsys.readouterr().err
