"""Lists: the objects the selectors match, a page at a time, every page of a list read at the
first one's revision (Kubernetes' consistent continue tokens)."""

from __future__ import annotations

import base64
import binascii
import json

from apiserver import errors
from apiserver.objects import ListMessage, T, object_meta
from apiserver.registry.generic.base import StoreBase
from apiserver.registry.generic.codec import MAX_INT64, parse_resource_version
from apiserver.registry.generic.options import EXACT, ListOptions
from apiserver.registry.strategies.base import Strategy
from apiserver.storage.etcd import CompactedError, prefix_end
from podplane.apimachinery import json_text, selectors


async def list_objects(store: StoreBase[T], namespace: str, options: ListOptions) -> ListMessage[T]:
    """The objects the selectors match, read at the options' resourceVersion when they ask for
    that very state (resourceVersionMatch Exact), else at the latest revision, or at the
    revision of the list a continue token continues."""
    exact_version = options.resource_version_match == EXACT
    revision = parse_resource_version(options.resource_version) if exact_version else 0
    limit, continue_token = options.limit, options.continue_
    labels, fields = parse_selectors(store.strategy, options.label_selector, options.field_selector)
    start = store.range_prefix(namespace)
    end = prefix_end(start)
    exact = revision
    if continue_token:
        revision, start = decode_continue(continue_token, start)
    out = store.strategy.new_list()
    items = out.items
    last_returned = b""
    has_more = False
    # Without selectors, every key is an item: what a page leaves is what etcd counts past it
    # (Kubernetes' remainingItemCount; with selectors it cannot know without reading).
    everything = labels.empty and not fields.requirements
    remaining: int | None = None
    while True:
        # One past the page (to know whether more follow), within etcd's int64 limit.
        chunk = min(limit - len(items) + 1, MAX_INT64) if limit else 0
        try:
            kvs, etcd_more, read_rev, count = await store.guard(
                store.etcd.range_counted(start, end, limit=chunk, revision=revision)
            )
        except CompactedError:
            if exact and not continue_token:
                raise errors.too_old(exact, 0) from None
            raise errors.APIError(
                errors.too_old(revision, 0).code,
                "Expired",
                "The provided continue parameter is too old to display a "
                "consistent list result. You can start a new list without "
                "the continue parameter.",
            ) from None
        revision = revision or read_rev
        for kv, obj in zip(kvs, await store.read_all(kvs), strict=True):
            if not (
                labels.matches(object_meta(obj).labels)
                and fields.matches(store.strategy.fields(obj))
            ):
                continue
            if limit and len(items) == limit:
                has_more = True
                break
            items.append(obj)
            last_returned = kv.key
        if has_more and everything:
            remaining = count - len(items)  # one range from the page's start: all of it
        if has_more or not etcd_more or not kvs:
            break
        start = kvs[-1].key + b"\0"
    # Every page of a paginated list is read at the first page's revision (a consistent list).
    out.metadata.resource_version = str(revision)
    if has_more:
        token = {"rv": revision, "start": (last_returned + b"\0").decode("utf-8", "replace")}
        out.metadata.continue_token = base64.urlsafe_b64encode(json.dumps(token).encode()).decode()
        if remaining is not None:
            out.metadata.remaining_item_count = remaining
    return out


def decode_continue(token: str, prefix: bytes) -> tuple[int, bytes]:
    """The revision and start key a continue token carries, for a list under `prefix`."""
    try:
        data = json_text.loads(base64.urlsafe_b64decode(token.encode()))
        rv, start = int(data["rv"]), str(data["start"]).encode()
        if not 0 <= rv <= MAX_INT64:  # an etcd revision
            raise ValueError(rv)
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise errors.bad_request(
            "continue: Invalid value: the continue token is not valid"
        ) from None
    if not start.startswith(prefix):
        raise errors.bad_request("continue: Invalid value: the continue token is for another list")
    return rv, start


def parse_selectors(
    strategy: Strategy[T], label_selector: str, field_selector: str
) -> tuple[selectors.LabelSelector, selectors.FieldSelector]:
    """A request's selectors, over the kind's selectable fields; BadRequest naming the one that
    does not parse."""
    try:
        labels = selectors.parse_labels(label_selector)
    except selectors.SelectorError as e:
        raise errors.bad_request(f"labelSelector: Invalid value: {label_selector!r}: {e}") from None
    try:
        fields = selectors.parse_fields(field_selector, strategy.selectable_fields)
    except selectors.SelectorError as e:
        raise errors.bad_request(
            f'fieldSelector: Invalid value: "{field_selector}": {e} for "{strategy.resource.kind}"'
        ) from None
    return labels, fields
