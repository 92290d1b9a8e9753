"""The command line: good flags parse; a bad one exits 2 with a message naming it."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubelet.config import parse_args

REQUIRED = ["--server", "apiserver:6443", "--node-name", "node-1", "--pod-cidr", "10.244.1.0/24"]


def test_defaults() -> None:
    config = parse_args(REQUIRED)
    assert (config.server, config.node_name, config.pod_cidr) == (
        "apiserver:6443",
        "node-1",
        "10.244.1.0/24",
    )
    assert (config.port, config.root_dir, config.docker_host) == (
        10250,
        "/var/lib/kubelet",
        "unix:///var/run/docker.sock",
    )


def test_pod_dns_flags() -> None:
    default = parse_args(REQUIRED)
    assert (default.cluster_dns, default.cluster_domain, default.resolv_conf) == (
        (),
        "",
        "/etc/resolv.conf",
    )
    config = parse_args(
        [
            *REQUIRED,
            *("--cluster-dns", "10.96.0.10, fd00::a"),
            *("--cluster-domain", "cluster.local."),
            *("--resolv-conf", ""),
        ]
    )
    assert config.cluster_dns == ("10.96.0.10", "fd00::a")
    assert (config.cluster_domain, config.resolv_conf) == ("cluster.local", "")


def test_sysctl_and_seccomp_flags() -> None:
    default = parse_args(REQUIRED)
    assert (default.allowed_unsafe_sysctls, default.seccomp_default) == ((), False)
    config = parse_args(
        [
            *REQUIRED,
            "--allowed-unsafe-sysctls",
            "kernel.msg*, net.core.somaxconn",
            "--seccomp-default",
        ]
    )
    assert config.allowed_unsafe_sysctls == ("kernel.msg*", "net.core.somaxconn")
    assert config.seccomp_default


def test_container_log_rotation_flags(capsys: pytest.CaptureFixture[str]) -> None:
    default = parse_args(REQUIRED).log_policy
    assert (default.max_size, default.max_files, default.interval) == (10 * 1024 * 1024, 5, 10.0)
    config = parse_args(
        [*REQUIRED, "--container-log-max-size", "1Mi", "--container-log-max-files", "2"]
    )
    assert (config.log_policy.max_size, config.log_policy.max_files) == (1024 * 1024, 2)
    with pytest.raises(SystemExit):
        parse_args([*REQUIRED, "--container-log-max-files", "1"])
    assert capsys.readouterr().err.endswith(
        "error: --container-log-max-files: invalid configuration: containerLogMaxFiles "
        "(--container-log-max-files) 1 must be greater than 1\n"
    )


def test_node_labels() -> None:
    config = parse_args([*REQUIRED, "--node-labels", "zone=a,example.com/tier=db"])
    assert config.node_labels == {"zone": "a", "example.com/tier": "db"}


@pytest.mark.parametrize(
    ("flag", "value"),
    [
        ("--server", "apiserver"),
        ("--server", "apiserver:http"),
        ("--node-name", "Node_1"),
        ("--pod-cidr", "10.244.1.0/33"),
        ("--pod-cidr", "10.244.1.7/24"),
        ("--node-ip", "10.0.0"),
        ("--root-dir", "relative/dir"),
        ("--docker-host", "/var/run/docker.sock"),
        ("--node-labels", "novalue"),
        ("--cluster-dns", "10.96.0.10,kube-dns"),
        ("--cluster-domain", "Cluster_Local"),
        ("--resolv-conf", "/nonexistent/resolv.conf"),
        ("--allowed-unsafe-sysctls", "vm.swappiness"),
        ("--allowed-unsafe-sysctls", "net.core.Somaxconn"),
        ("--container-log-max-size", "ten megs"),
        ("--container-log-max-size", "0"),
        ("--container-log-max-files", "1"),
        ("--container-log-monitor-interval", "2"),
        ("--feature-gates", "EventedPLEG"),
        ("--feature-gates", "EventedPLEG=maybe"),
        ("--feature-gates", "NoSuchGate=true"),
    ],
)
def test_bad_setting_exits_2_naming_it(
    flag: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = list(REQUIRED)
    if flag in args:
        args[args.index(flag) + 1] = value
    else:
        args += [flag, value]
    with pytest.raises(SystemExit) as exit_info:
        parse_args(args)
    assert exit_info.value.code == 2
    assert f"error: {flag}:" in capsys.readouterr().err


def test_missing_required_flag_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        parse_args(["--server", "a:1", "--node-name", "n"])
    assert exit_info.value.code == 2 and "--pod-cidr" in capsys.readouterr().err


def test_tls_bootstrap_flags(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    token, ca = tmp_path / "token", tmp_path / "ca.crt"
    token.write_text("abcdef.0123456789abcdef\n")
    ca.write_text("")
    config = parse_args(
        [
            *REQUIRED,
            "--ca-file",
            str(ca),
            "--bootstrap-token-file",
            str(token),
            "--bootstrap-server",
            "apiserver:6444",
        ]
    )
    assert (config.bootstrap_token_file, config.bootstrap_server, config.cert_dir) == (
        str(token),
        "apiserver:6444",
        "/var/lib/kubelet/pki",
    )
    for extra, named in (
        (["--bootstrap-token-file", str(token), "--ca-file", str(ca)], "--bootstrap-server"),
        (["--bootstrap-server", "apiserver:6444"], "--bootstrap-token-file"),
        (["--bootstrap-token-file", str(tmp_path / "none")], "--bootstrap-token-file"),
    ):
        with pytest.raises(SystemExit) as exit_info:
            parse_args([*REQUIRED, *extra])
        assert exit_info.value.code == 2
        assert f"error: {named}:" in capsys.readouterr().err


def test_feature_gates(capsys: pytest.CaptureFixture[str]) -> None:
    assert parse_args(REQUIRED).evented_pleg is False  # Kubernetes 1.31's default
    assert parse_args([*REQUIRED, "--feature-gates", "EventedPLEG=true"]).evented_pleg is True
    assert parse_args([*REQUIRED, "--feature-gates", " EventedPLEG=True ,"]).evented_pleg is True
    assert parse_args([*REQUIRED, "--feature-gates", "EventedPLEG=0"]).evented_pleg is False
    for value, message in [
        ("EventedPLEG", "missing bool value for EventedPLEG"),
        ("Evented=true", "unrecognized feature gate: Evented"),
        (
            "EventedPLEG=yes",
            'invalid value of EventedPLEG=yes, err: strconv.ParseBool: parsing "yes": '
            "invalid syntax",
        ),
    ]:
        with pytest.raises(SystemExit):
            parse_args([*REQUIRED, "--feature-gates", value])
        assert capsys.readouterr().err.endswith(f"error: --feature-gates: {message}\n")
