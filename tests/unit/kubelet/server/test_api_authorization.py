"""The kubelet API is the apiserver's alone (system:masters); other callers are named."""

from __future__ import annotations

from kubelet.server.authorization import refusal


def test_only_system_masters_may_call() -> None:
    apiserver = {"x509_subject": [b"CN=kube-apiserver-kubelet-client,O=system:masters"]}
    assert refusal(apiserver) is None
    assert refusal({"x509_subject": [b"CN=system:node:node-2,O=system:nodes"]}) == (
        "Forbidden (user=system:node:node-2, verb=create, resource=nodes, subresource=proxy)"
    )
    assert refusal({}) == (
        "Forbidden (user=system:anonymous, verb=create, resource=nodes, subresource=proxy)"
    )
