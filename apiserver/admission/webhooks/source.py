"""The webhooks to call, read from the apiserver's own watch caches of the
MutatingWebhookConfigurations and ValidatingWebhookConfigurations (Kubernetes'
configuration/mutating_webhook_manager.go and validating_webhook_manager.go read an informer's
lister): every configuration's webhooks, the configurations sorted by name as the managers sort
them, each webhook parsed once per resourceVersion of its configuration (its match conditions
compiled then), so a request pays for no parsing. Nothing is polled: the cache is the watch."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from google.protobuf.message import Message

from apiserver.objects import object_meta
from apiserver.webhook.matching import Webhook, webhook_from_json
from podplane.apimachinery import codec

CachedObjects = Callable[[], Mapping[bytes, Message]]
"""The objects a watch cache holds now (a Cacher's `objects`)."""


@dataclass(frozen=True)
class ConfiguredWebhook:
    """A webhook with the configuration it is in and its place there: `uid` names it across
    reinvocations, as the accessors' uid does (<configuration>/<webhook>/<index>)."""

    configuration: str
    index: int
    webhook: Webhook

    @property
    def uid(self) -> str:
        return f"{self.configuration}/{self.webhook.name}/{self.index}"


class WebhookSource:
    """The webhooks of one kind of configuration, as the watch cache has them now."""

    def __init__(self, objects: CachedObjects) -> None:
        self._objects = objects
        self._parsed: dict[tuple[str, str], tuple[ConfiguredWebhook, ...]] = {}

    def webhooks(self) -> Sequence[ConfiguredWebhook]:
        configurations = sorted(self._objects().values(), key=lambda c: object_meta(c).name)
        found: list[ConfiguredWebhook] = []
        current: dict[tuple[str, str], tuple[ConfiguredWebhook, ...]] = {}
        for configuration in configurations:
            meta = object_meta(configuration)
            key = (meta.name, meta.resource_version)
            parsed = self._parsed.get(key)
            if parsed is None:
                parsed = _parse(meta.name, configuration)
            current[key] = parsed
            found.extend(parsed)
        self._parsed = current
        return found


def _parse(name: str, configuration: Message) -> tuple[ConfiguredWebhook, ...]:
    document = codec.encode(configuration)
    return tuple(
        ConfiguredWebhook(name, index, webhook_from_json(hook))
        for index, hook in enumerate(document.get("webhooks") or [])
    )
