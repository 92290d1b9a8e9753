"""The aggregation layer's flags (kube-apiserver's --proxy-client-cert-file,
--proxy-client-key-file and --requestheader-*): the proxy's certificate and key go together and
must load, the front-proxy CA must be readable; without a certificate there is no front proxy."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from apiserver.options import aggregator
from podplane.componentbase import pki


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="apiserver")
    aggregator.add_flags(parser)
    args = parser.parse_args(argv)
    aggregator.validate(parser, args)
    return args


def test_kubeadms_flags(tmp_path: Path) -> None:
    pki.build(tmp_path, [])
    args = parse(
        [
            f"--proxy-client-cert-file={tmp_path / 'front-proxy-client.crt'}",
            f"--proxy-client-key-file={tmp_path / 'front-proxy-client.key'}",
            f"--requestheader-client-ca-file={tmp_path / 'front-proxy-ca.crt'}",
            "--requestheader-allowed-names=front-proxy-client",
        ]
    )
    options = args.aggregator
    assert options.requestheader_allowed_names == ("front-proxy-client",)
    assert options.requestheader_username_headers == ("X-Remote-User",)
    assert options.requestheader_group_headers == ("X-Remote-Group",)
    assert options.requestheader_extra_headers_prefix == ("X-Remote-Extra-",)
    assert options.requestheader_ca == (tmp_path / "front-proxy-ca.crt").read_bytes()
    assert parse([]).aggregator is None


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--proxy-client-cert-file=a.crt"],
            "--proxy-client-cert-file, --proxy-client-key-file: give the certificate and key "
            "together",
        ),
        (
            [
                "--proxy-client-cert-file=/nonexistent/a.crt",
                "--proxy-client-key-file=/nonexistent/a.key",
                "--requestheader-client-ca-file=/nonexistent/ca.crt",
            ],
            "--requestheader-client-ca-file: cannot read /nonexistent/ca.crt: No such file or "
            "directory",
        ),
    ],
)
def test_refusals_name_the_flag(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        parse(argv)
    assert capsys.readouterr().err.splitlines()[-1] == f"apiserver: error: {message}"
