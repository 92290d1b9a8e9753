"""uid.new(): a new object's uid is a random version-4 UUID in its canonical text, never one
given before, in a forked child too."""

from __future__ import annotations

import os
import uuid

from podplane.apimachinery import uid


def test_uids_are_version_4_uuids_in_canonical_text_and_never_repeat() -> None:
    made = [uid.new() for _ in range(5000)]  # across many reads of the random source
    assert len(set(made)) == len(made)
    for text in made:
        parsed = uuid.UUID(text)
        assert parsed.version == 4
        assert parsed.variant == uuid.RFC_4122
        assert str(parsed) == text
    # Every digit of the random ones turns up: the text is drawn from all of the bytes.
    assert set("".join(made).replace("-", "")) == set("0123456789abcdef")


def test_a_forked_child_does_not_give_its_parents_next_uids() -> None:
    uid.new()  # the parent's pool is filled
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child only writes and exits
        os.write(write, ",".join(uid.new() for _ in range(3)).encode())
        os._exit(0)
    os.close(write)
    _, status = os.waitpid(child, 0)
    with os.fdopen(read) as f:
        childs = f.read().split(",")
    assert status == 0
    parents = [uid.new() for _ in range(3)]
    assert len(childs) == 3 and not set(childs) & set(parents)
