"""How a client proves who it is to the apiserver: the cluster CA that signed the apiserver's
certificate, and a client certificate (components, nodes, admins) or a bearer token (users).

Flags (every component and podctl): --ca-file, --cert-file, --key-file, --token-file. podctl and
the tools also read PODPLANE_CA / PODPLANE_CERT / PODPLANE_KEY / PODPLANE_TOKEN_FILE /
PODPLANE_TOKEN and, last, ~/.podplane/config (YAML: server, ca, cert, key, token-file): a small
kubeconfig. --tls-server-name (PODPLANE_TLS_SERVER_NAME, tls-server-name) checks the apiserver's
certificate against another name than the address's, as kubectl's does. A program may instead
give a TokenSource, whose token is asked for at every call and told when the apiserver refuses it
(the controller-manager's service account tokens, client-go's ResettableTokenSource)."""

from __future__ import annotations

import argparse
import asyncio
import os
import threading
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

import grpc
import yaml

from podplane.apimachinery.json_types import JSONValue

CONFIG_PATH = Path("~/.podplane/config")
ENV = {
    "ca_file": "PODPLANE_CA",
    "cert_file": "PODPLANE_CERT",
    "key_file": "PODPLANE_KEY",
    "token_file": "PODPLANE_TOKEN_FILE",
}
CONFIG_KEYS = {"ca_file": "ca", "cert_file": "cert", "key_file": "key", "token_file": "token-file"}
TLS_SERVER_NAME_ENV = "PODPLANE_TLS_SERVER_NAME"
TLS_SERVER_NAME_KEY = "tls-server-name"


class CredentialsError(ValueError):
    pass


def _read(setting: str, path: str) -> bytes:
    try:
        return Path(path).expanduser().read_bytes()
    except OSError as e:
        raise CredentialsError(f"{setting}: cannot read {path}: {e.strerror}") from None


class TokenSource(Protocol):
    """Where a client's bearer token comes from when it changes while the client lives."""

    def token(self) -> str:
        """The token to send now (called for every call, from any thread: it must not block)."""
        ...

    def unauthorized(self) -> None:
        """The apiserver answered 401 (UNAUTHENTICATED) to the token: get a new one."""
        ...


class _BearerToken:
    """grpc's AuthMetadataPlugin over a TokenSource: each call's authorization metadata."""

    def __init__(self, source: TokenSource) -> None:
        self.source = source

    def __call__(self, context: object, callback: Callable[..., None]) -> None:
        callback((("authorization", f"Bearer {self.source.token()}"),), None)


class _ReportUnauthenticated(
    grpc.aio.UnaryUnaryClientInterceptor,  # type: ignore[misc]
    grpc.aio.UnaryStreamClientInterceptor,  # type: ignore[misc]
):
    """Tells the token source of every call the apiserver refused as unauthenticated, so that
    the next calls go with a new token (client-go's ResettableTokenSourceWrapTransport resets
    its cached token on a 401)."""

    def __init__(self, source: TokenSource) -> None:
        self.source = source

    async def intercept_unary_unary(
        self,
        continuation: Callable[..., Awaitable[grpc.aio.UnaryUnaryCall]],
        details: grpc.aio.ClientCallDetails,
        request: object,
    ) -> grpc.aio.UnaryUnaryCall:
        call = await continuation(details, request)
        if await call.code() == grpc.StatusCode.UNAUTHENTICATED:
            self.source.unauthorized()
        return call

    async def intercept_unary_stream(
        self,
        continuation: Callable[..., Awaitable[grpc.aio.UnaryStreamCall]],
        details: grpc.aio.ClientCallDetails,
        request: object,
    ) -> grpc.aio.UnaryStreamCall:
        call = await continuation(details, request)
        loop = asyncio.get_running_loop()

        async def check() -> None:
            if await call.code() == grpc.StatusCode.UNAUTHENTICATED:
                self.source.unauthorized()

        # A stream's code is known when it ends; a refused one ends at once.
        call.add_done_callback(lambda _call: loop.create_task(check()))
        return call


class TokenFile:
    """A bearer token read from a file, read again whenever the file changes: a service account
    token the kubelet rewrites before it expires (client-go's file token source reads its file
    again every minute; a stat per call is cheaper than a stale token)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._token = ""

    def token(self) -> str:
        with self._lock:
            try:
                status = os.stat(self.path)
                stamp = (status.st_mtime_ns, status.st_ino)
                if stamp != self._stamp:
                    self._token = Path(self.path).read_text().strip()
                    self._stamp = stamp
            except OSError:
                pass  # a rewrite in progress: the last token read
            return self._token

    def __call__(self, context: object, callback: Callable[..., None]) -> None:
        """grpc's AuthMetadataPlugin: the call's metadata, to `callback`."""
        callback((("authorization", f"Bearer {self.token()}"),), None)


@dataclass(frozen=True)
class Credentials:
    ca_file: str
    cert_file: str | None = None
    key_file: str | None = None
    token: str | None = None
    # A file holding the token, read again when it changes (it wins over `token`).
    token_file: str | None = None
    # The name the apiserver's certificate is checked against, when the address dialled is not
    # one of its names (kubectl's --tls-server-name): an apiserver reached by its IP on a
    # network its certificate does not name.
    tls_server_name: str | None = None
    # A token that changes while the client lives, asked for at every call (wins over both).
    token_source: TokenSource | None = None

    def with_token_source(self, source: TokenSource) -> Credentials:
        """These credentials' CA and server name with `source`'s token instead of their client
        certificate or token (client-go's AnonymousClientConfig, then a token source)."""
        return replace(
            self, cert_file=None, key_file=None, token=None, token_file=None, token_source=source
        )

    def channel_credentials(self) -> grpc.ChannelCredentials:
        ca = _read("--ca-file", self.ca_file)
        key = _read("--key-file", self.key_file) if self.key_file else None
        cert = _read("--cert-file", self.cert_file) if self.cert_file else None
        tls = grpc.ssl_channel_credentials(ca, key, cert)
        if self.token_source is not None:
            return grpc.composite_channel_credentials(
                tls, grpc.metadata_call_credentials(_BearerToken(self.token_source))
            )
        if self.token_file:
            return grpc.composite_channel_credentials(
                tls, grpc.metadata_call_credentials(TokenFile(self.token_file))
            )
        if self.token:
            return grpc.composite_channel_credentials(
                tls, grpc.access_token_call_credentials(self.token)
            )
        return tls

    def channel_options(
        self, options: Sequence[tuple[str, int | str]] = ()
    ) -> list[tuple[str, int | str]]:
        if not self.tls_server_name:
            return list(options)
        return [*options, ("grpc.ssl_target_name_override", self.tls_server_name)]

    def aio_channel(
        self, target: str, options: Sequence[tuple[str, int | str]] = ()
    ) -> grpc.aio.Channel:
        interceptors = (
            [_ReportUnauthenticated(self.token_source)] if self.token_source is not None else None
        )
        return grpc.aio.secure_channel(
            target,
            self.channel_credentials(),
            options=self.channel_options(options),
            interceptors=interceptors,
        )

    def channel(self, target: str) -> grpc.Channel:
        return grpc.secure_channel(
            target, self.channel_credentials(), options=self.channel_options()
        )


def aio_channel(
    target: str, credentials: Credentials | None, options: Sequence[tuple[str, int | str]] = ()
) -> grpc.aio.Channel:
    """TLS with `credentials`, plaintext without (an apiserver started with --insecure-serving)."""
    if credentials is None:
        return grpc.aio.insecure_channel(target, options=list(options))
    return credentials.aio_channel(target, options)


def add_credential_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("credentials for the apiserver")
    g.add_argument("--ca-file", help="the cluster CA (PEM) that signed the apiserver's certificate")
    g.add_argument("--cert-file", help="client certificate (PEM): CN is the user, O the groups")
    g.add_argument("--key-file", help="the key of --cert-file")
    g.add_argument("--token-file", help="a file holding a bearer token")
    g.add_argument(
        "--tls-server-name",
        help="the name the apiserver's certificate is checked against, if not the address's",
    )


def _config(path: Path) -> Mapping[str, JSONValue]:
    path = path.expanduser()
    if not path.exists():
        return {}
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as e:
        raise CredentialsError(f"{path}: {e}") from None
    if not isinstance(data, dict):
        raise CredentialsError(f"{path}: expected a mapping of server, ca, cert, key, token-file")
    return data


def credentials_from(
    args: argparse.Namespace | None = None,
    env: Mapping[str, str] | None = None,
    config_path: Path | None = None,
) -> Credentials | None:
    """Flags first, then the environment, then the config file (each setting on its own); None
    when no CA is named anywhere (a plaintext apiserver)."""
    env = os.environ if env is None else env
    config = _config(config_path or CONFIG_PATH) if (config_path or env is os.environ) else {}
    values: dict[str, str | None] = {}
    source: dict[str, str] = {}  # where each setting came from, for error messages
    for attr, var in ENV.items():
        flag = getattr(args, attr, None) if args is not None else None
        for name, value in (
            (f"--{attr.replace('_', '-')}", flag),
            (var, env.get(var)),
            (f"{config_path or CONFIG_PATH} {CONFIG_KEYS[attr]}", config.get(CONFIG_KEYS[attr])),
        ):
            if value:
                values[attr], source[attr] = str(value), name
                break
        else:
            values[attr] = None
    for attr, path in values.items():
        if path:
            _read(source[attr], path)
    token = env.get("PODPLANE_TOKEN") or None
    if values["token_file"]:
        token = _read(source["token_file"], str(values["token_file"])).decode().strip()
        if not token:
            raise CredentialsError(f"{source['token_file']}: {values['token_file']} is empty")
    if not values["ca_file"]:
        if values["cert_file"] or values["key_file"] or token:
            raise CredentialsError("--ca-file: required with a client certificate or a token")
        return None
    if bool(values["cert_file"]) != bool(values["key_file"]):
        raise CredentialsError("--cert-file and --key-file: give both or neither")
    server_name = (
        (getattr(args, "tls_server_name", None) if args is not None else None)
        or env.get(TLS_SERVER_NAME_ENV)
        or config.get(TLS_SERVER_NAME_KEY)
        or None
    )
    creds = Credentials(
        str(values["ca_file"]),
        values["cert_file"],
        values["key_file"],
        token,
        str(values["token_file"]) if values["token_file"] else None,
        str(server_name) if server_name else None,
    )
    creds.channel_credentials()  # unreadable files are refused now, with the setting named
    return creds


def server_from_config(config_path: Path | None = None) -> str | None:
    server = _config(config_path or CONFIG_PATH).get("server")
    return str(server) if server else None
