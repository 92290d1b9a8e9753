"""The two webhook plugins assembled over what the apiserver has: the watch caches of the
webhook configurations, its Services and EndpointSlices (a Service-referenced webhook is
reached at one ready endpoint of its Service, as kube-apiserver with --enable-aggregator-routing
reaches it, through apiserver.webhook.resolver), a namespace's labels, and the kinds' defaults.
One webhook client (its connections reused per configuration) serves both."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from google.protobuf.message import Message

from apiserver.admission.interfaces import Plugin
from apiserver.admission.webhooks import mutating, validating
from apiserver.admission.webhooks.mutating import MutatingWebhooks
from apiserver.admission.webhooks.source import WebhookSource
from apiserver.admission.webhooks.validating import ValidatingWebhooks
from apiserver.webhook.cached import WatchCache, cached_service_client
from apiserver.webhook.client import WebhookClient
from apiserver.webhook.matching import NamespaceLabels
from podplane.apimachinery.resources import Resource


def webhook_plugins(
    caches: Mapping[str, WatchCache[Message]],
    defaults: Mapping[str, Callable[[Message], None]],
    namespace_labels: NamespaceLabels,
) -> tuple[dict[str, Plugin], WebhookClient]:
    """MutatingAdmissionWebhook and ValidatingAdmissionWebhook by name, over the watch caches
    by plural; `defaults` the built-in kinds' defaulting by plural. The client is the caller's
    to close."""
    client = cached_service_client(caches["services"], caches["endpointslices"])
    mutating_configurations = caches["mutatingwebhookconfigurations"]
    validating_configurations = caches["validatingwebhookconfigurations"]

    def default(resource: Resource, obj: Message) -> None:
        if not resource.custom:
            defaults[resource.plural](obj)

    plugins: dict[str, Plugin] = {
        mutating.NAME: MutatingWebhooks(
            WebhookSource(lambda: mutating_configurations.objects),
            client,
            namespace_labels,
            default,
        ),
        validating.NAME: ValidatingWebhooks(
            WebhookSource(lambda: validating_configurations.objects), client, namespace_labels
        ),
    }
    return plugins, client
