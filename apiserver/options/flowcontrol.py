"""How many requests the apiserver serves at once, and how it shares them out: API Priority and
Fairness, or the max-in-flight guard (kube-apiserver's --enable-priority-and-fairness and its
ServerRunOptions' --max-requests-inflight and --max-mutating-requests-inflight)."""

from __future__ import annotations

import argparse

from apiserver.flowcontrol.max_inflight import (
    DEFAULT_MAX_MUTATING_REQUESTS_INFLIGHT,
    DEFAULT_MAX_REQUESTS_INFLIGHT,
)
from podplane.componentbase import flags
from podplane.componentbase.options import at_least


def add_flags(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("flow control")
    flags.add_boolean(
        g,
        "--enable-priority-and-fairness",
        default=True,
        help="API Priority and Fairness (default true): requests are classified into "
        "priority levels and flows, queued fairly when the server is busy and refused "
        "(RESOURCE_EXHAUSTED, 429) only when their queue is full or they waited too "
        "long; the server's seats are the sum of the two limits below. false: the "
        "max-in-flight guard, which refuses at once what is over either limit",
    )
    g.add_argument(
        "--max-requests-inflight",
        type=int,
        default=DEFAULT_MAX_REQUESTS_INFLIGHT,
        help="read-only requests served at once (without API Priority and Fairness; "
        "with it, added to the next to make the server's seats); watches and other "
        "long-running requests are not counted; 0: no limit",
    )
    g.add_argument(
        "--max-mutating-requests-inflight",
        type=int,
        default=DEFAULT_MAX_MUTATING_REQUESTS_INFLIGHT,
        help="mutating requests (create, update, delete, bind) served at once "
        "(without API Priority and Fairness; with it, see above); 0: no limit",
    )


def validate(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    at_least(parser, args, 0, "max_requests_inflight", "max_mutating_requests_inflight")
