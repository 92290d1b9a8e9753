"""The token authenticators' reads (watch cache, else storage) over objects a test holds."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


def reads(get: Callable[[str, str], T]) -> Callable[[str, str], Awaitable[T]]:
    """`get` (namespace, name) as the authenticators' awaitable lookup."""

    async def read(namespace: str, name: str) -> T:
        return get(namespace, name)

    return read
