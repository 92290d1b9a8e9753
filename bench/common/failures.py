"""Writes a benchmark measures that failed make the benchmark fail: a run of refused writes would
otherwise report their absence as the apiserver's throughput (0/s)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping


class WritesFailed(RuntimeError):
    """Writes the benchmark measures failed: its figures would not be the apiserver's."""


def check_writes(what: str, succeeded: int, errors: Counter[str], messages: dict[str, str]) -> None:
    """Raises WritesFailed when any measured write failed (`errors` by code, `messages` the
    first message of each code) or none succeeded."""
    if errors:
        why = "; ".join(f"{code}: {messages.get(code, '')}" for code in sorted(errors))
        raise WritesFailed(
            f"{what}: {sum(errors.values())} of {succeeded + sum(errors.values())} failed "
            f"({dict(errors)}): {why}"
        )
    if succeeded == 0:
        raise WritesFailed(f"{what}: none was made in the measured window")


def first_messages(parts: Iterable[Mapping[str, str]]) -> dict[str, str]:
    """The first message of each error code over the parts' own (each a worker's), in order."""
    out: dict[str, str] = {}
    for messages in parts:
        for code, message in messages.items():
            out.setdefault(code, message)
    return out
