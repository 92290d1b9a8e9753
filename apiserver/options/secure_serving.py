"""kube-apiserver's secure serving and authentication options: --tls-cert-file,
--tls-private-key-file, --client-ca-file, --token-auth-file, --enable-bootstrap-token-auth,
--anonymous-auth, and the service account token options (apiserver/options/service_account.py).

gRPC Python can either require a verified client certificate or not ask for one (there is no
"request but do not require"), so the apiserver listens twice with the same services: the secure
port requires a client certificate signed by --client-ca-file (components, nodes, admins), the
token port (--token-port) serves TLS without one, for users with a bearer token."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

import grpc

from apiserver.auth.authenticator import Authenticator
from apiserver.auth.bootstrap_token import BootstrapTokenAuthenticator
from apiserver.auth.serviceaccount.authenticator import Lookups
from apiserver.auth.token_file import TokenAuthenticator, load_token_file
from apiserver.options.service_account import ServiceAccountOptions


class SecurityConfigError(ValueError):
    pass


def read_file(flag: str, path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as e:
        raise SecurityConfigError(f"{flag}: cannot read {path}: {e.strerror}") from None


@dataclass(frozen=True)
class KubeletClientConfig:
    """How the apiserver reaches kubelets for logs, exec and attach (kube-apiserver's
    --kubelet-client-certificate, --kubelet-client-key, --kubelet-certificate-authority): TLS with
    its own client certificate, the kubelet's serving certificate checked against the CA for the
    node's name. Without them (an apiserver with --insecure-serving), plaintext."""

    ca_file: str
    cert_file: str
    key_file: str

    def credentials(self) -> grpc.ChannelCredentials:
        def read(flag: str, path: str) -> bytes:
            try:
                return Path(path).read_bytes()
            except OSError as e:
                raise ValueError(f"{flag}: cannot read {path}: {e.strerror}") from None

        return grpc.ssl_channel_credentials(
            read("--kubelet-certificate-authority", self.ca_file),
            read("--kubelet-client-key", self.key_file),
            read("--kubelet-client-certificate", self.cert_file),
        )

    def ssl_context(self) -> ssl.SSLContext:
        """The same identity and trust for the kubelets' HTTPS API (nodes/proxy)."""
        context = ssl.create_default_context(cafile=self.ca_file)
        context.load_cert_chain(self.cert_file, self.key_file)
        context.set_alpn_protocols(["http/1.1"])
        return context


@dataclass(frozen=True)
class SecureServing:
    cert_file: str
    key_file: str
    client_ca_file: str
    token_auth_file: str | None = None
    # HOST:PORT of the TLS port without client certificates (bearer tokens); None: not served.
    token_address: str | None = None
    # etcd over TLS with a client certificate (--etcd-cafile, --etcd-certfile, --etcd-keyfile).
    etcd_ca_file: str | None = None
    etcd_cert_file: str | None = None
    etcd_key_file: str | None = None
    # Kubelets over TLS (--kubelet-certificate-authority, --kubelet-client-certificate/-key).
    kubelet_client: KubeletClientConfig | None = None
    # Service account tokens: issued by serviceaccounts/<name>/token, accepted as bearer tokens.
    service_accounts: ServiceAccountOptions | None = None
    # Bootstrap tokens (--enable-bootstrap-token-auth): kube-system's bootstrap-token-<id> Secrets.
    enable_bootstrap_token_auth: bool = False
    # A request without credentials is system:anonymous, authorized like any other
    # (--anonymous-auth, true by default as kube-apiserver's); false: it is a 401.
    anonymous_auth: bool = True

    def etcd_credentials(self) -> grpc.ChannelCredentials | None:
        if not self.etcd_ca_file:
            return None
        return grpc.ssl_channel_credentials(
            read_file("--etcd-cafile", self.etcd_ca_file),
            read_file("--etcd-keyfile", self.etcd_key_file) if self.etcd_key_file else None,
            read_file("--etcd-certfile", self.etcd_cert_file) if self.etcd_cert_file else None,
        )

    def server_credentials(self, require_client_cert: bool = True) -> grpc.ServerCredentials:
        key = read_file("--tls-private-key-file", self.key_file)
        cert = read_file("--tls-cert-file", self.cert_file)
        ca = read_file("--client-ca-file", self.client_ca_file)
        return grpc.ssl_server_credentials(
            [(key, cert)], root_certificates=ca, require_client_auth=require_client_cert
        )

    def authenticator(self, lookups: Lookups | None = None) -> Authenticator:
        """The authenticator of these options; service account tokens are accepted when they
        are configured and `lookups` reads the objects tokens name, bootstrap tokens when
        enabled and `lookups` reads their Secrets; a request without credentials is
        system:anonymous unless anonymous requests are off."""
        tokens = (
            TokenAuthenticator(load_token_file(self.token_auth_file))
            if self.token_auth_file is not None
            else None
        )
        accounts = (
            self.service_accounts.authenticator(lookups)
            if self.service_accounts is not None and lookups is not None
            else None
        )
        bootstrap = (
            BootstrapTokenAuthenticator(lookups.secret)
            if self.enable_bootstrap_token_auth and lookups is not None
            else None
        )
        return Authenticator(tokens, accounts, bootstrap, anonymous=self.anonymous_auth)
