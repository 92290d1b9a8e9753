"""How the apiserver reaches kubelets, their gRPC service for logs, exec and attach and their
HTTPS API for nodes/proxy: TLS with the credentials of
kube-apiserver's --kubelet-client-certificate, --kubelet-client-key and
--kubelet-certificate-authority (apiserver.options.secure_serving.KubeletClientConfig), the
kubelet's serving certificate checked for the node's name; without them (an apiserver with
--insecure-serving), plaintext.

One setting per process, made by APIServer at construction, so the pod subresources need not carry
it through every call."""

from __future__ import annotations

import ssl

import grpc

from podplane.client.clientset import CHANNEL_OPTIONS

_credentials: grpc.ChannelCredentials | None = None
_ssl_context: ssl.SSLContext | None = None


def configure(
    credentials: grpc.ChannelCredentials | None, ssl_context: ssl.SSLContext | None = None
) -> None:
    global _credentials, _ssl_context
    _credentials, _ssl_context = credentials, ssl_context


def https_context() -> ssl.SSLContext | None:
    """The HTTPS API's TLS (None: plain HTTP, as the gRPC channel is then plaintext too)."""
    return _ssl_context


def channel(address: str, node_name: str) -> grpc.aio.Channel:
    """A channel to the kubelet of `node_name` at `address`; with TLS, its certificate must be
    issued for the node's name (the address is an IP the certificate does not list)."""
    if _credentials is None:
        return grpc.aio.insecure_channel(address, options=CHANNEL_OPTIONS)
    return grpc.aio.secure_channel(
        address,
        _credentials,
        options=[*CHANNEL_OPTIONS, ("grpc.ssl_target_name_override", node_name)],
    )
