"""Where a webhook is: a URL, or a Service (namespace, name, path, port 443 by default), and the
CA bundle its serving certificate must chain to (empty: the system's roots). The URL a call
posts to is built as client-go builds it for kube-apiserver (pkg/util/webhook/client.go and
rest.Request.URL): `https://<name>.<namespace>.svc:<port><path>` or the configured URL, its path
cleaned as Go's path.Join cleans it, and `?timeout=<N>s`."""

from __future__ import annotations

import base64
import binascii
import posixpath
from dataclasses import dataclass
from urllib.parse import urlsplit

from podplane.apimachinery.json_types import JSONObject

DEFAULT_PORT = 443


@dataclass(frozen=True)
class ServiceReference:
    namespace: str
    name: str
    path: str = ""
    port: int = DEFAULT_PORT

    @property
    def server_name(self) -> str:
        """The name the certificate must carry, and the TLS server name sent."""
        return f"{self.name}.{self.namespace}.svc"


@dataclass(frozen=True)
class ClientConfig:
    """A webhook's clientConfig: exactly one of `url` and `service`."""

    url: str = ""
    service: ServiceReference | None = None
    ca_bundle: bytes = b""


def client_config_from_json(obj: JSONObject) -> ClientConfig:
    """A WebhookClientConfig as Kubernetes serialises it (caBundle base64, service.port
    defaulting to 443); ValueError naming the field when caBundle is not base64."""
    ca_bundle = b""
    if obj.get("caBundle"):
        try:
            ca_bundle = base64.b64decode(obj["caBundle"], validate=True)
        except (binascii.Error, ValueError) as e:
            raise ValueError(f"clientConfig.caBundle: illegal base64 data: {e}") from e
    service = obj.get("service")
    ref = None
    if isinstance(service, dict):
        ref = ServiceReference(
            namespace=str(service.get("namespace", "")),
            name=str(service.get("name", "")),
            path=str(service.get("path") or ""),
            port=int(service.get("port") or DEFAULT_PORT),
        )
    return ClientConfig(url=str(obj.get("url") or ""), service=ref, ca_bundle=ca_bundle)


def _clean_path(path: str) -> str:
    """path.Join("/", path): rooted, no empty, "." or ".." segments, no trailing slash."""
    cleaned = posixpath.normpath("/" + path)
    return "/" + cleaned.lstrip("/")


def go_duration(seconds: int) -> str:
    """A whole number of seconds as Go's time.Duration String() writes it (10s, 1m30s)."""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    if minutes:
        return f"{minutes}m{secs}s"
    return f"{secs}s"


@dataclass(frozen=True)
class Target:
    """What one call connects to: the URL (as printed in errors), the host and port a
    connection is made to before resolution, the TLS server name, and the Host header (the
    URL's host and port as written, as Go's client sends it)."""

    url: str
    host: str
    port: int
    server_name: str
    host_header: str


def target(config: ClientConfig, timeout_seconds: int | None) -> Target:
    """The call's URL; ValueError with ErrCallingWebhook's reason when the configuration has
    neither a service nor a usable URL."""
    query = f"?timeout={go_duration(timeout_seconds)}" if timeout_seconds else ""
    if config.service is not None:
        svc = config.service
        host = svc.server_name
        url = f"https://{host}:{svc.port}{_clean_path(svc.path)}{query}"
        return Target(url, host, svc.port, host, f"{host}:{svc.port}")
    if not config.url:
        raise ValueError("webhook configuration must have either service or URL")
    try:
        parts = urlsplit(config.url)
        port = parts.port
    except ValueError as e:
        raise ValueError(f"Unparsable URL: {e}") from e
    host = parts.hostname or ""
    scheme = parts.scheme or "https"
    url = f"{scheme}://{parts.netloc}{_clean_path(parts.path)}{query}"
    return Target(url, host, port or DEFAULT_PORT, host, parts.netloc.rpartition("@")[2])
