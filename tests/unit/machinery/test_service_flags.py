"""Every service refuses a bad setting at start: argparse's exit status 2 and one line
`<prog>: error: ... --<flag> ...` naming it (kube-apiserver and the kubelet refuse the same way)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from apiserver.__main__ import parse_args as apiserver_args
from controller.__main__ import parse_args as controller_args
from kubelet.config import parse_args as kubelet_args
from scheduler.__main__ import parse_args as scheduler_args

APISERVER = ["--etcd-servers", "http://127.0.0.1:2379"]
COMPONENT = ["--server", "apiserver:6443"]
KUBELET = ["--server", "apiserver:6443", "--node-name", "node-1", "--pod-cidr", "10.244.1.0/24"]

ParseArgs = Callable[[list[str]], Any]

# (service, its parse_args, valid base flags, the bad flags, the setting the message must name)
CASES: list[tuple[str, ParseArgs, list[str], list[str], str]] = [
    ("apiserver", apiserver_args, [], ["--etcd-servers", "notaurl"], "--etcd-servers"),
    ("apiserver", apiserver_args, [], ["--etcd-servers", "ftp://etcd:2379"], "--etcd-servers"),
    ("apiserver", apiserver_args, [], ["--etcd-servers", "http://etcd"], "--etcd-servers"),
    ("apiserver", apiserver_args, [], ["--etcd-servers", ","], "--etcd-servers"),
    ("apiserver", apiserver_args, APISERVER, ["--port", "70000"], "--port"),
    (
        "apiserver",
        apiserver_args,
        APISERVER,
        ["--disable-admission-plugins", "ServiceAccount,Nope"],
        '--disable-admission-plugins: admission plugin "Nope" is unknown',
    ),
    ("apiserver", apiserver_args, APISERVER, ["--port", "http"], "--port"),
    ("apiserver", apiserver_args, APISERVER, ["--watch-cache-size=-1"], "--watch-cache-size"),
    ("apiserver", apiserver_args, APISERVER, ["--watch-buffer-size", "0"], "--watch-buffer-size"),
    ("apiserver", apiserver_args, APISERVER, ["--grpc-acceptors", "0"], "--grpc-acceptors"),
    (
        "apiserver",
        apiserver_args,
        APISERVER,
        ["--watch-bookmark-interval", "0"],
        "--watch-bookmark-interval",
    ),
    (
        "apiserver",
        apiserver_args,
        APISERVER,
        ["--watch-batch-interval=-0.01"],
        "--watch-batch-interval",
    ),
    ("apiserver", apiserver_args, APISERVER, ["--etcd-wait-seconds=-5"], "--etcd-wait-seconds"),
    (
        "apiserver",
        apiserver_args,
        APISERVER,
        ["--etcd-compaction-interval=-1"],
        "--etcd-compaction-interval",
    ),
    ("apiserver", apiserver_args, APISERVER, ["--bind-address", "not/an/ip"], "--bind-address"),
    ("apiserver", apiserver_args, APISERVER, ["--log-level", "LOUD"], "--log-level"),
    (
        "apiserver",
        apiserver_args,
        APISERVER,
        ["--metrics-bind-address", "nohost"],
        "--metrics-bind-address",
    ),
    (
        "apiserver",
        apiserver_args,
        APISERVER,
        ["--max-requests-inflight=-1"],
        "--max-requests-inflight",
    ),
    ("scheduler", scheduler_args, [], ["--server", "apiserver"], "--server"),
    ("scheduler", scheduler_args, COMPONENT, ["--health-port", "65536"], "--health-port"),
    ("scheduler", scheduler_args, COMPONENT, ["--bind-address", "zz/zz"], "--bind-address"),
    (
        "scheduler",
        scheduler_args,
        COMPONENT,
        ["--scheduler-name", "Not_A_Name"],
        "--scheduler-name",
    ),
    ("scheduler", scheduler_args, COMPONENT, ["--log-level", "LOUD"], "--log-level"),
    ("scheduler", scheduler_args, COMPONENT, ["--leader-elect", "maybe"], "--leader-elect"),
    (
        "scheduler",
        scheduler_args,
        COMPONENT,
        ["--leader-elect-lease-duration", "soon"],
        "--leader-elect-lease-duration",
    ),
    (
        "scheduler",
        scheduler_args,
        COMPONENT,
        ["--leader-elect-renew-deadline", "20s"],
        "--leader-elect",
    ),
    ("controller-manager", controller_args, [], ["--server", "apiserver:http"], "--server"),
    (
        "controller-manager",
        controller_args,
        COMPONENT,
        ["--cluster-cidr", "10.0.0.0/33"],
        "--cluster-cidr",
    ),
    (
        "controller-manager",
        controller_args,
        COMPONENT,
        ["--cluster-cidr", "10.244.0.1/16"],
        "--cluster-cidr",
    ),
    (
        "controller-manager",
        controller_args,
        COMPONENT,
        ["--node-cidr-mask-size", "40"],
        "--node-cidr-mask-size",
    ),
    (
        "controller-manager",
        controller_args,
        COMPONENT,
        ["--node-monitor-grace-period=-5s"],
        "--node-monitor-grace-period",
    ),
    (
        "controller-manager",
        controller_args,
        COMPONENT,
        ["--node-monitor-grace-period", "0"],
        "--node-monitor-grace-period",
    ),
    (
        "controller-manager",
        controller_args,
        COMPONENT,
        ["--node-startup-grace-period", "1x"],
        "--node-startup-grace-period",
    ),
    (
        "controller-manager",
        controller_args,
        COMPONENT,
        ["--controllers", "nosuch"],
        "--controllers",
    ),
    ("controller-manager", controller_args, COMPONENT, ["--bind-address", "zz"], "--bind-address"),
    (
        "kubelet",
        kubelet_args,
        [],
        [*KUBELET[:2], "--node-name", "Bad_Name", *KUBELET[4:]],
        "--node-name",
    ),
    ("kubelet", kubelet_args, [], [*KUBELET[:4], "--pod-cidr", "10.244.1.1/24"], "--pod-cidr"),
    ("kubelet", kubelet_args, [], [*KUBELET[:4], "--pod-cidr", "not-a-cidr"], "--pod-cidr"),
    ("kubelet", kubelet_args, [], ["--server", "apiserver", *KUBELET[2:]], "--server"),
    ("kubelet", kubelet_args, KUBELET, ["--kube-reserved", "cpu=lots"], "--kube-reserved"),
    ("kubelet", kubelet_args, KUBELET, ["--kube-reserved", "gpu=1"], "--kube-reserved"),
    ("kubelet", kubelet_args, KUBELET, ["--system-reserved", "memory"], "--system-reserved"),
    ("kubelet", kubelet_args, KUBELET, ["--port=-1"], "--port"),
    ("kubelet", kubelet_args, KUBELET, ["--node-ip", "10.0.0.300"], "--node-ip"),
    ("kubelet", kubelet_args, KUBELET, ["--root-dir", "relative"], "--root-dir"),
    ("kubelet", kubelet_args, KUBELET, ["--docker-host", "/var/run/docker.sock"], "--docker-host"),
    ("kubelet", kubelet_args, KUBELET, ["--node-labels", "no-equals-sign"], "--node-labels"),
    (
        "kubelet",
        kubelet_args,
        KUBELET,
        ["--node-status-update-frequency", "nan"],
        "--node-status-update-frequency",
    ),
    (
        "kubelet",
        kubelet_args,
        KUBELET,
        ["--node-status-update-frequency", "0"],
        "--node-status-update-frequency",
    ),
    ("kubelet", kubelet_args, KUBELET, ["--pod-manifest-path", "manifests"], "--pod-manifest-path"),
    ("kubelet", kubelet_args, KUBELET, ["--log-level", "LOUD"], "--log-level"),
    (
        "kubelet",
        kubelet_args,
        KUBELET,
        ["--metrics-bind-address", "x:99999"],
        "--metrics-bind-address",
    ),
]


@pytest.mark.parametrize(
    ("prog", "parse_args", "base", "bad", "setting"),
    CASES,
    ids=[f"{c[0]}{''.join(c[3][-2:])}" for c in CASES],
)
def test_bad_setting_is_refused_by_name(
    capsys: pytest.CaptureFixture[str],
    prog: str,
    parse_args: ParseArgs,
    base: list[str],
    bad: list[str],
    setting: str,
) -> None:
    with pytest.raises(SystemExit) as exited:
        parse_args([*base, *bad])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    last = err.strip().splitlines()[-1]
    assert last.startswith(f"{prog}: error: "), err
    assert setting in last, err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("parse_args", "argv"),
    [
        (scheduler_args, [*COMPONENT, "--bind-address", "127.0.0.1"]),
        (controller_args, [*COMPONENT, "--node-monitor-grace-period", "40s"]),
        (kubelet_args, [*KUBELET, "--log-level", "warning", "--kube-reserved", "cpu=100m"]),
    ],
)
def test_good_settings_still_parse(parse_args: ParseArgs, argv: list[str]) -> None:
    parse_args(argv)
