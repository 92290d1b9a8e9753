"""kube-apiserver's etcd options (EtcdOptions, the watch cache's flags among them): where etcd is,
how long to wait for it, how often to compact its history, and the watch cache's sizes and
pacing."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from apiserver.registry import cacher
from podplane.componentbase import flags
from podplane.componentbase.options import at_least


@dataclass(frozen=True)
class WatchCacheOptions:
    """The watch caches' sizes and pacing (apiserver/registry/cacher.py)."""

    capacity: int = cacher.DEFAULT_CAPACITY
    watcher_buffer: int = cacher.DEFAULT_WATCHER_BUFFER
    bookmark_interval: float = cacher.DEFAULT_BOOKMARK_INTERVAL
    batch_interval: float = cacher.DEFAULT_BATCH_INTERVAL


def add_flags(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("etcd and the watch cache")
    g.add_argument(
        "--etcd-servers",
        required=True,
        type=flags.url_list,
        help="comma-separated etcd endpoints, e.g. http://etcd:2379",
    )
    g.add_argument(
        "--etcd-wait-seconds",
        type=float,
        default=120.0,
        help="how long to wait for etcd at start-up",
    )
    g.add_argument(
        "--etcd-compaction-interval",
        type=float,
        default=300.0,
        help="seconds between compactions of etcd's history (0: never)",
    )
    g.add_argument(
        "--watch-cache-size",
        type=int,
        default=cacher.DEFAULT_CAPACITY,
        help="events kept per resource for watches resuming from a recent version",
    )
    g.add_argument(
        "--watch-buffer-size",
        type=int,
        default=cacher.DEFAULT_WATCHER_BUFFER,
        help="events queued per watch before a watcher that cannot keep up is closed",
    )
    g.add_argument(
        "--watch-bookmark-interval",
        type=float,
        default=cacher.DEFAULT_BOOKMARK_INTERVAL,
        help="seconds between BOOKMARK events sent to watchers that allow them",
    )
    g.add_argument(
        "--watch-batch-interval",
        type=float,
        default=cacher.DEFAULT_BATCH_INTERVAL,
        help="seconds a busy watch stream waits after a message before the next, "
        "which carries every event that arrived meanwhile (for clients that take "
        "batches); a stream idle that long sends at once; 0: never wait",
    )


def validate(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    at_least(
        parser,
        args,
        0,
        "etcd_compaction_interval",
        "watch_bookmark_interval",
        "watch_batch_interval",
        "etcd_wait_seconds",
    )
    at_least(parser, args, 1, "watch_cache_size", "watch_buffer_size")
    if args.watch_bookmark_interval == 0:
        parser.error("--watch-bookmark-interval: must be > 0")
