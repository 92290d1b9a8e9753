"""Kubernetes' bool flags as pflag parses them (strconv.ParseBool): `--flag` alone is true,
`--flag=true` and `--flag=false` (or 1, t, T, TRUE, True and their false twins) say which, and
any other value is refused naming the flag. kubeadm's manifests write
`--enable-bootstrap-token-auth=true`; a kube-proxy DaemonSet may pass `--masquerade-all` alone."""

from __future__ import annotations

import argparse
from collections.abc import Callable

import pytest

from apiserver.options import flowcontrol as apiserver_flowcontrol
from apiserver.options import security as apiserver_security
from controller.options import credentials as controller_credentials
from kubelet.options import bootstrap as kubelet_bootstrap
from kubelet.options import pod_security as kubelet_pod_security
from metricsserver.options import _ScrapeOptions as MetricsServerScrape
from podplane.componentbase import flags, leaderelection_flags
from proxy.__main__ import _ProxyOptions as ProxyOptions

AddFlags = Callable[[argparse.ArgumentParser], None]

# (the flags' adder, the flag, its default)
BOOL_FLAGS: list[tuple[AddFlags, str, bool]] = [
    (apiserver_security.add_flags, "--enable-bootstrap-token-auth", False),
    (apiserver_security.add_flags, "--anonymous-auth", True),
    (apiserver_flowcontrol.add_flags, "--enable-priority-and-fairness", True),
    (lambda p: leaderelection_flags.add_flags(p, "kube-scheduler"), "--leader-elect", True),
    (controller_credentials.add_flags, "--use-service-account-credentials", False),
    (kubelet_bootstrap.add_flags, "--rotate-server-certificates", False),
    (kubelet_pod_security.add_flags, "--seccomp-default", False),
    (ProxyOptions.add_flags, "--masquerade-all", False),
    (ProxyOptions.add_flags, "--iptables-localhost-nodeports", True),
    (ProxyOptions.add_flags, "--announce-load-balancer-ips", False),
    (MetricsServerScrape.add_flags, "--kubelet-insecure-tls", False),
]


def parser_of(add: AddFlags) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="component")
    add(parser)
    return parser


def value(parser: argparse.ArgumentParser, flag: str, argv: list[str]) -> object:
    return getattr(parser.parse_args(argv), flag.lstrip("-").replace("-", "_"))


@pytest.mark.parametrize(("add", "flag", "default"), BOOL_FLAGS, ids=[f[1] for f in BOOL_FLAGS])
def test_a_bool_flag_reads_as_pflag_reads_it(add: AddFlags, flag: str, default: bool) -> None:
    parser = parser_of(add)
    assert value(parser, flag, []) is default
    assert value(parser, flag, [flag]) is True
    for word in ("true", "True", "TRUE", "t", "T", "1"):
        assert value(parser, flag, [f"{flag}={word}"]) is True, word
    for word in ("false", "False", "FALSE", "f", "F", "0"):
        assert value(parser, flag, [f"{flag}={word}"]) is False, word


@pytest.mark.parametrize("word", ["yes", "no", "on", "", " true"])
def test_a_value_go_does_not_parse_is_refused_by_name(
    capsys: pytest.CaptureFixture[str], word: str
) -> None:
    parser = argparse.ArgumentParser(prog="kube-proxy")
    flags.add_boolean(parser, "--masquerade-all", default=False, help="")
    with pytest.raises(SystemExit) as exited:
        parser.parse_args([f"--masquerade-all={word}"])
    assert exited.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"kube-proxy: error: argument --masquerade-all: {word!r} is not a boolean (true or false)"
    )
