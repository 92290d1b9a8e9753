"""The compaction schedule: each step compacts to the revision the previous step saw, so history
one interval old is always still there."""

from __future__ import annotations

from typing import Any

from apiserver.storage.compactor import Compactor
from apiserver.storage.etcd import CompactedError


class FakeEtcd:
    def __init__(self) -> None:
        self.revision = 0
        self.compactions: list[int] = []
        self.fail_with: Exception | None = None

    async def get(self, key: bytes) -> tuple[Any, int]:
        return None, self.revision

    async def compact(self, revision: int) -> None:
        if self.fail_with:
            raise self.fail_with
        self.compactions.append(revision)


async def test_each_step_compacts_to_the_revision_seen_one_interval_earlier() -> None:
    etcd = FakeEtcd()
    compactor = Compactor(etcd, interval=300)  # type: ignore[arg-type]
    etcd.revision = 100
    seen = await compactor.step(0)  # the first step only records where etcd is
    assert (seen, etcd.compactions) == (100, [])
    etcd.revision = 250
    seen = await compactor.step(seen)
    assert (seen, etcd.compactions) == (250, [100])
    seen = await compactor.step(seen)  # nothing new written: 250 now, never 100 again
    assert etcd.compactions == [100, 250]
    await compactor.step(seen)
    assert etcd.compactions == [100, 250]


async def test_a_revision_compacted_by_someone_else_is_not_an_error() -> None:
    etcd = FakeEtcd()
    etcd.fail_with = CompactedError(10, 20)
    compactor = Compactor(etcd, interval=300)  # type: ignore[arg-type]
    etcd.revision = 30
    assert await compactor.step(10) == 30
    assert compactor.compacted == 10
