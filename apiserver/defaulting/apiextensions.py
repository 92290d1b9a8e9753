"""CustomResourceDefinition defaults (k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1
defaults.go): the singular and list kinds from the kind, conversion None, a conversion
webhook's service port 443."""

from __future__ import annotations

from podplane.api.apiextensions.v1 import apiextensions_pb2

NONE_CONVERTER = "None"
DEFAULT_WEBHOOK_PORT = 443


def custom_resource_definition(crd: apiextensions_pb2.CustomResourceDefinition) -> None:
    names = crd.spec.names
    if not names.singular:
        names.singular = names.kind.lower()
    if not names.list_kind and names.kind:
        names.list_kind = names.kind + "List"
    if not crd.spec.HasField("conversion"):
        crd.spec.conversion.strategy = NONE_CONVERTER
    client = crd.spec.conversion.webhook.client_config
    if client.HasField("service") and not client.service.HasField("port"):
        client.service.port = DEFAULT_WEBHOOK_PORT
