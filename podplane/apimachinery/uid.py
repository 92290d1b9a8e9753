"""New object uids: random (version 4) UUIDs in their 8-4-4-4-12 text, as Kubernetes' apiserver
gives each new object (apimachinery util/uuid.NewUUID). The OS's random bytes are read for many
uids at once: a read and uuid.UUID's checks were most of a create's uid, done thousands of times a
second by a busy apiserver."""

from __future__ import annotations

import os

# Uids per read of the OS's random source.
_POOL = 256

_hex = ""  # the pool's bytes in hex, 32 digits a uid
_at = 0


def new() -> str:
    """A random UUID, e.g. 0b5b4b1e-9c2e-4f6a-8d3c-2a6f0e1b7c9d (the version digit 4, the
    variant's one of 8, 9, a, b), as str(uuid.uuid4())."""
    global _hex, _at
    if _at >= len(_hex):
        _hex, _at = os.urandom(16 * _POOL).hex(), 0
    h = _hex[_at : _at + 32]
    _at += 32
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:]}"


# RFC 4122's variant: the top two bits of the 17th digit are 10.
_VARIANT = {d: "89ab"[int(d, 16) & 3] for d in "0123456789abcdef"}


def _forget_pool() -> None:
    """A forked child draws its own bytes: the parent's pool would give both the same uids."""
    global _hex, _at
    _hex, _at = "", 0


os.register_at_fork(after_in_child=_forget_pool)
