"""Flags several verbs share: -f/-R (the manifests to act on) and durations (--timeout,
--pod-running-timeout)."""

from __future__ import annotations

import argparse
import re
from typing import TypeAlias

from podctl.errors import CommandError

# What each verb adds its parser to (argparse's add_subparsers()).
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def add_file_flags(parser: argparse.ArgumentParser, verb: str) -> None:
    parser.add_argument(
        "-f",
        "--filename",
        action="append",
        default=[],
        help=f"a file, directory or - (stdin) with the objects to {verb}",
    )
    parser.add_argument(
        "-R",
        "--recursive",
        action="store_true",
        help="process the directory given with -f recursively",
    )


def parse_duration(text: str) -> float:
    """`30s`, `2m`, `1h`, `1m30s` or plain seconds."""
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h)", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise CommandError(
            f'error: invalid argument "{text}" for "--timeout" flag: '
            f'time: invalid duration "{text}"'
        )
    scale = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
    return sum(float(n) * scale[u] for n, u in parts)
