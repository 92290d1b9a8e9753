"""How the apiserver reaches kubelets for logs, exec and attach: TLS with the credentials of
kube-apiserver's --kubelet-client-certificate, --kubelet-client-key and
--kubelet-certificate-authority (apiserver.options.secure_serving.KubeletClientConfig), the
kubelet's serving certificate checked for the node's name; without them (an apiserver with
--insecure-serving), plaintext.

One setting per process, made by APIServer at construction, so the pod subresources need not carry
it through every call."""

from __future__ import annotations

import grpc

from podplane.client.clientset import CHANNEL_OPTIONS

_credentials: grpc.ChannelCredentials | None = None


def configure(credentials: grpc.ChannelCredentials | None) -> None:
    global _credentials
    _credentials = credentials


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
