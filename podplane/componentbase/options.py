"""A component's command line as option groups, as component-base declares them (an options
struct per concern, each with AddFlags and Validate: ServerRunOptions, EtcdOptions,
SecureServingOptions): each group adds its own flags to the parser and checks them once parsed,
stopping the start with a message naming the flag. A flag two components share is one group's
(the log level here; the apiserver connection, leader election, health and metrics in their own
modules of this package).

A group is anything with add_flags and validate: a module of two functions is one."""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from typing import NoReturn, Protocol

from podplane.componentbase import flags


class OptionGroup(Protocol):
    def add_flags(self, parser: argparse.ArgumentParser) -> None:
        """Adds the group's flags (under an argument group of its own, for --help)."""

    def validate(self, parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
        """Checks the parsed values (and sets any the group derives from them); a bad one ends
        the start through parser.error, naming the flag."""


def parse(
    parser: argparse.ArgumentParser, groups: Iterable[OptionGroup], argv: list[str]
) -> argparse.Namespace:
    """The command line, every group's flags added, then parsed, then validated in order."""
    groups = list(groups)
    for group in groups:
        group.add_flags(parser)
    args = parser.parse_args(argv)
    for group in groups:
        group.validate(parser, args)
    return args


def fail(parser: argparse.ArgumentParser, flag: str, problem: str) -> NoReturn:
    """Ends the start with `flag: problem` (status 2, after the usage)."""
    parser.error(f"{flag}: {problem}")


def at_least(
    parser: argparse.ArgumentParser, args: argparse.Namespace, minimum: int, *dests: str
) -> None:
    """Each of the numeric flags `dests` (argparse's names: max_requests_inflight) at least
    `minimum`, or the start ends naming the first that is not."""
    for dest in dests:
        if getattr(args, dest) < minimum:
            parser.error(f"--{dest.replace('_', '-')}: must be >= {minimum}")


class LogOptions:
    """--log-level: DEBUG, INFO, WARNING or ERROR (any case), every component's."""

    @staticmethod
    def add_flags(parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--log-level",
            type=flags.log_level,
            default="INFO",
            help="DEBUG, INFO, WARNING or ERROR",
        )

    @staticmethod
    def validate(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
        """Nothing beyond the value's type."""
