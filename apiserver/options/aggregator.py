"""The aggregation layer's flags, named as kube-apiserver's: the client certificate the apiserver
presents to aggregated API servers (--proxy-client-cert-file, --proxy-client-key-file) and the
request-header settings it publishes for them in kube-system's extension-apiserver-authentication
ConfigMap (--requestheader-client-ca-file, --requestheader-allowed-names,
--requestheader-username-headers, --requestheader-group-headers,
--requestheader-extra-headers-prefix). podplane's apiserver always routes to an aggregated
API's endpoints (kube-apiserver's --enable-aggregator-routing), as it has no Service network."""

from __future__ import annotations

import argparse
import ssl
from dataclasses import dataclass, field

from apiserver.options.secure_serving import SecurityConfigError, read_file

# kubeadm's values, which kube-apiserver's proxy always sends (transport.SetAuthProxyHeaders).
USERNAME_HEADER = "X-Remote-User"
GROUP_HEADER = "X-Remote-Group"
EXTRA_HEADERS_PREFIX = "X-Remote-Extra-"


@dataclass(frozen=True)
class AggregatorOptions:
    """The front proxy's client certificate and key, and the request-header settings."""

    proxy_client_cert_file: str
    proxy_client_key_file: str
    requestheader_client_ca_file: str = ""
    requestheader_allowed_names: tuple[str, ...] = ()
    requestheader_username_headers: tuple[str, ...] = (USERNAME_HEADER,)
    requestheader_group_headers: tuple[str, ...] = (GROUP_HEADER,)
    requestheader_extra_headers_prefix: tuple[str, ...] = (EXTRA_HEADERS_PREFIX,)
    # The PEM of --requestheader-client-ca-file, read once when checked.
    requestheader_ca: bytes = field(default=b"", compare=False)

    def client_certificate(self, context: ssl.SSLContext) -> None:
        """Loads the proxy's client certificate into a TLS context."""
        context.load_cert_chain(self.proxy_client_cert_file, self.proxy_client_key_file)


def _names(value: str) -> tuple[str, ...]:
    return tuple(n.strip() for n in value.split(",") if n.strip())


def add_flags(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("aggregation layer")
    g.add_argument(
        "--proxy-client-cert-file",
        default="",
        help="client certificate the apiserver presents to aggregated API servers",
    )
    g.add_argument(
        "--proxy-client-key-file", default="", help="the key of --proxy-client-cert-file"
    )
    g.add_argument(
        "--requestheader-client-ca-file",
        default="",
        help="CA of the front proxy's client certificate, published for aggregated API servers",
    )
    g.add_argument(
        "--requestheader-allowed-names",
        default="",
        help="common names of the front proxy's certificates, comma-separated (empty: any)",
    )
    g.add_argument("--requestheader-username-headers", default=USERNAME_HEADER)
    g.add_argument("--requestheader-group-headers", default=GROUP_HEADER)
    g.add_argument("--requestheader-extra-headers-prefix", default=EXTRA_HEADERS_PREFIX)


def validate(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Sets args.aggregator (None without a proxy client certificate: aggregated APIs answer
    503, as Kubernetes' proxy does without a transport)."""
    args.aggregator = aggregator_from_args(parser, args)


def aggregator_from_args(
    parser: argparse.ArgumentParser, args: argparse.Namespace
) -> AggregatorOptions | None:
    cert, key = args.proxy_client_cert_file, args.proxy_client_key_file
    if bool(cert) != bool(key):
        parser.error(
            "--proxy-client-cert-file, --proxy-client-key-file: give the certificate and key "
            "together"
        )
    if not cert:
        return None
    try:
        ca = (
            read_file("--requestheader-client-ca-file", args.requestheader_client_ca_file)
            if args.requestheader_client_ca_file
            else b""
        )
        options = AggregatorOptions(
            cert,
            key,
            args.requestheader_client_ca_file,
            _names(args.requestheader_allowed_names),
            _names(args.requestheader_username_headers),
            _names(args.requestheader_group_headers),
            _names(args.requestheader_extra_headers_prefix),
            ca,
        )
        options.client_certificate(ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT))
    except SecurityConfigError as e:
        parser.error(str(e))
    except (OSError, ssl.SSLError) as e:
        parser.error(f"--proxy-client-cert-file: cannot load {cert} with {key}: {e}")
    return options
