"""A plugin's two phases as the registry calls them, for the plugins' tests: a create, an update
(of the object or a subresource) or a delete, told by the Attributes the store makes (the user
is the request's, tests.unit's set_current_user), through the plugin's `admit` if it mutates
and then its `validate` if it validates, for the operations it handles."""

from __future__ import annotations

from google.protobuf.message import Message

from apiserver.admission.attributes import Attributes, for_create, for_delete, for_update
from apiserver.admission.interfaces import MutationInterface, Plugin, ValidationInterface
from podplane.apimachinery import resources


async def both_phases(plugin: Plugin, attrs: Attributes) -> None:
    if isinstance(plugin, MutationInterface) and plugin.handles(attrs.operation):
        await plugin.admit(attrs)
    if isinstance(plugin, ValidationInterface) and plugin.handles(attrs.operation):
        await plugin.validate(attrs)


async def admit_create(plugin: Plugin, obj: Message, *, dry_run: bool = False) -> None:
    await both_phases(plugin, for_create(resources.by_message(obj), obj, dry_run=dry_run))


async def admit_update(plugin: Plugin, subresource: str, new: Message, old: Message) -> None:
    attrs = for_update(resources.by_message(old), new, old, subresource=subresource, dry_run=False)
    await both_phases(plugin, attrs)


async def admit_delete(plugin: Plugin, old: Message) -> None:
    await both_phases(plugin, for_delete(resources.by_message(old), old, dry_run=False))
