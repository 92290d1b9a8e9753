"""`python -m ingress`'s flags: the defaults the add-on relies on, and bad values refused by
name."""

from __future__ import annotations

import pytest

from ingress.options import CONTROLLER, parse_args


def test_defaults() -> None:
    options = parse_args(["--server", "apiserver:6444"])
    assert options.controller_class == CONTROLLER == "podplane.io/ingress-haproxy"
    assert (options.http_port, options.https_port, options.healthz_port) == (80, 443, 10254)
    assert options.publish_service is None and options.publish_status_address == ()


def test_publish_flags() -> None:
    options = parse_args(
        [
            "--server=a:1",
            "--publish-service=ingress-haproxy/ingress-haproxy",
            "--publish-status-address=192.0.2.1, lb.example.com",
        ]
    )
    assert options.publish_service == ("ingress-haproxy", "ingress-haproxy")
    assert options.publish_status_address == ("192.0.2.1", "lb.example.com")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--publish-service=nameonly"], '--publish-service: "nameonly" is not NAMESPACE/NAME'),
        (["--bind-address=nowhere"], "--bind-address: 'nowhere' is not an IP address"),
        (["--healthz-port=70000"], "--healthz-port: must be between 0 and 65535"),
        (["--controller-class="], "--controller-class: must not be empty"),
    ],
)
def test_bad_values_are_named(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        parse_args(["--server=a:1", *args])
    assert exited.value.code == 2
    assert message in capsys.readouterr().err
