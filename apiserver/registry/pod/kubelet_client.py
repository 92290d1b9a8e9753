"""How the apiserver reaches kubelets for logs, exec and attach (kube-apiserver's
--kubelet-client-certificate, --kubelet-client-key, --kubelet-certificate-authority): TLS with its
own client certificate, the kubelet's serving certificate checked against the CA for the node's
name. Without them (an apiserver with --insecure-serving), plaintext.

One setting per process, made by APIServer at construction, so the pod subresources need not carry
it through every call."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import grpc

from podplane.client.clientset import CHANNEL_OPTIONS


@dataclass(frozen=True)
class KubeletClientConfig:
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
            read("--kubelet-client-certificate", self.cert_file))


_credentials: grpc.ChannelCredentials | None = None


def configure(config: KubeletClientConfig | None) -> None:
    global _credentials
    _credentials = config.credentials() if config is not None else None


def channel(address: str, node_name: str) -> grpc.aio.Channel:
    """A channel to the kubelet of `node_name` at `address`; with TLS, its certificate must be
    issued for the node's name (the address is an IP the certificate does not list)."""
    if _credentials is None:
        return grpc.aio.insecure_channel(address, options=CHANNEL_OPTIONS)
    return grpc.aio.secure_channel(
        address, _credentials,
        options=[*CHANNEL_OPTIONS, ("grpc.ssl_target_name_override", node_name)])
