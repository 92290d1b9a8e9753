"""The pods whose tracking finalizer the Job controller has asked to remove, until its informer
shows it gone (kubernetes pkg/controller/job/tracking_utils.go uidTrackingExpectations): a pod
still showing the finalizer in the cache is not counted a second time."""

from __future__ import annotations


class FinalizerExpectations:
    def __init__(self) -> None:
        self._by_job: dict[str, set[str]] = {}

    def expect_removals(self, job_key: str, uids: list[str]) -> None:
        self._by_job.setdefault(job_key, set()).update(uids)

    def removal_observed(self, job_key: str, uid: str) -> None:
        uids = self._by_job.get(job_key)
        if uids is not None:
            uids.discard(uid)
            if not uids:
                del self._by_job[job_key]

    def expected(self, job_key: str) -> frozenset[str]:
        return frozenset(self._by_job.get(job_key, ()))

    def delete(self, job_key: str) -> None:
        self._by_job.pop(job_key, None)
