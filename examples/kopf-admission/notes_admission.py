"""kopf's admission handlers, run in the cluster (as kopf's examples/17-admission, with its own
webhook server and `settings.admission.managed`): kopf serves HTTPS on :8443 with the certificate
in /tls and creates the MutatingWebhookConfiguration and ValidatingWebhookConfiguration
`notes.admission.podplane.example` itself, naming its Service, so the apiserver calls it for
every Note created or changed.

- `stamp` (mutating): the Note's spec.author is who made the request, whatever it said;
- `no_shouting` (validating): a Note whose text is all capitals is refused."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any

import kopf

NAMESPACE = os.environ.get("POD_NAMESPACE", "kopf-admission")
SERVICE = "kopf-admission"


class ServiceServer(kopf.WebhookServer):
    """kopf's own HTTPS server, announced to the apiserver by its Service (the caBundle kopf
    read from cafile) rather than by the pod's URL: kopf appends each handler's id to the path."""

    async def __call__(self, fn: Any) -> AsyncIterator[Any]:
        async for client_config in super().__call__(fn):
            yield {
                "caBundle": client_config.get("caBundle"),
                "service": {"namespace": NAMESPACE, "name": SERVICE, "port": 443, "path": ""},
            }


@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, **_: Any) -> None:
    settings.admission.server = ServiceServer(
        addr="0.0.0.0",
        port=8443,
        certfile="/tls/tls.crt",
        pkeyfile="/tls/tls.key",
        cafile="/tls/ca.crt",
    )
    settings.admission.managed = "notes.admission.podplane.example"


# Each handler's id is the last segment of its webhook's path, which Kubernetes validates as a
# DNS subdomain: no underscores, so not the functions' names.
@kopf.on.mutate("admission.podplane.example", "v1", "notes", operation="CREATE", id="stamp")
def stamp(patch: kopf.Patch, userinfo: kopf.UserInfo, **_: Any) -> None:
    patch.spec["author"] = userinfo["username"]


@kopf.on.validate("admission.podplane.example", "v1", "notes", id="no-shouting")
def no_shouting(spec: kopf.Spec, **_: Any) -> None:
    text = str(spec.get("text", ""))
    if text.isupper():
        raise kopf.AdmissionError(f"no shouting, please: {text!r}", code=422)
