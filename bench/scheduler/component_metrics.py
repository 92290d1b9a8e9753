"""What the scheduler and the apiserver count about the measured pods, read from their own
/metrics before and after the measured phase: the scheduling attempts per pod, by result
(scheduler_schedule_attempts_total, as kube-scheduler exposes it), and the apiserver's writes per
pod, by resource, subresource and verb (apiserver_request_total's POST, PUT, PATCH and DELETE).
A regression in either (a pod tried twice, a status written twice) shows here before it shows
in the throughput."""

from __future__ import annotations

import asyncio
import urllib.request
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families

from bench.scheduler.options import Options, OwnCluster, server_metrics_url
from podplane.apimachinery.json_types import JSONObject

ATTEMPTS = "scheduler_schedule_attempts_total"
REQUESTS = "apiserver_request_total"
# Kubernetes' verbs for the HTTP methods that write (apiserver metrics' verb label).
WRITE_VERBS = {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}
# Written at a pace of their own (the hollow nodes' lease renewals, the scheduler's leader
# lease), however many pods there are: left out of the total per pod, still listed.
PACED_RESOURCES = ("leases",)
SCRAPE_TIMEOUT = 10.0


@dataclass(frozen=True)
class Counts:
    """Counters read from one or more /metrics pages (summed over them), or why they could not
    be read."""

    values: dict[str, float]
    error: str | None = None


def attempts_by_result(text: str) -> dict[str, float]:
    """scheduler_schedule_attempts_total by result, summed over the profiles."""
    counts: dict[str, float] = {}
    for sample in _samples(text, ATTEMPTS):
        result = sample.labels.get("result", "")
        counts[result] = counts.get(result, 0.0) + sample.value
    return counts


def writes_by_request(text: str) -> dict[str, float]:
    """apiserver_request_total's writes by "resource[/subresource] verb" ("pods create",
    "pods/binding create", "pods/status update"), summed over the codes: a refused write is
    a request too."""
    counts: dict[str, float] = {}
    for sample in _samples(text, REQUESTS):
        verb = WRITE_VERBS.get(sample.labels.get("verb", ""))
        if verb is None:
            continue
        resource = sample.labels.get("resource", "")
        subresource = sample.labels.get("subresource", "")
        key = f"{resource}/{subresource} {verb}" if subresource else f"{resource} {verb}"
        counts[key] = counts.get(key, 0.0) + sample.value
    return counts


def _samples(text: str, name: str) -> Iterable[_Sample]:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                yield _Sample(sample.labels, sample.value)


@dataclass(frozen=True)
class _Sample:
    labels: dict[str, str]
    value: float


def delta(before: Mapping[str, float], after: Mapping[str, float]) -> dict[str, float]:
    """after - before by key (a key first seen after counts from 0), the keys that moved only."""
    moved = {key: value - before.get(key, 0.0) for key, value in after.items()}
    return {key: value for key, value in sorted(moved.items()) if value}


def attempts_per_pod(moved: Mapping[str, float], pods: int) -> JSONObject:
    """Attempts per measured pod by result ("scheduled", "unschedulable", "error"), each there
    even at 0, and their "total"."""
    per_pod = {
        result: moved.get(result, 0.0) / max(1, pods)
        for result in ("scheduled", "unschedulable", "error")
    }
    for result, count in moved.items():  # any other result the scheduler may count
        per_pod.setdefault(result, count / max(1, pods))
    per_pod["total"] = sum(moved.values()) / max(1, pods)
    return per_pod


def writes_per_pod(moved: Mapping[str, float], pods: int) -> JSONObject:
    """Writes per measured pod by request, and their total without the paced resources'."""
    by_request = {key: count / max(1, pods) for key, count in moved.items()}
    total = sum(v for k, v in by_request.items() if _resource(k) not in PACED_RESOURCES)
    return {
        "by_request": by_request,
        "total": total,
        "total_leaves_out": list(PACED_RESOURCES),
    }


def _resource(key: str) -> str:
    """ "pods/binding create" -> "pods"."""
    return key.split()[0].split("/")[0]


def scrape(urls: Sequence[str], parse: Callable[[str], dict[str, float]]) -> Counts:
    """The counters `parse` reads from each page, summed (a leader's and its standby's), or
    the first page that could not be read and why."""
    if not urls:
        return Counts({}, "no /metrics address")
    total: dict[str, float] = {}
    for url in urls:
        try:
            with urllib.request.urlopen(url, timeout=SCRAPE_TIMEOUT) as response:
                text = response.read().decode()
            counts = parse(text)
        except (OSError, ValueError) as e:
            return Counts({}, f"{url}: {e}")
        for key, value in counts.items():
            total[key] = total.get(key, 0.0) + value
    return Counts(total)


def figures(
    before: Counts,
    after: Counts,
    pods: int,
    per_pod: Callable[[Mapping[str, float], int], JSONObject],
    at_least: tuple[str, int] = ("", 0),
) -> JSONObject:
    """The result's figures: what moved and per measured pod, or why they are not measured
    (never a zero that was not counted). `at_least`: a count the run knows happened (the pods
    it created, the binds it saw); fewer is a page of another process (a guessed address that
    reached another cluster's apiserver, one of several apiservers)."""
    error = before.error or after.error
    moved = {} if error else delta(before.values, after.values)
    if not error and any(v < 0 for v in moved.values()):
        error = "a counter went back: the process restarted during the measured phase"
    key, least = at_least
    if not error and moved.get(key, 0.0) < least:
        error = (
            f"its {key!r} moved by {moved.get(key, 0.0):g}, fewer than the run's {least}: "
            "not (all) this cluster's"
        )
    if error:
        return {"measured": False, "why": error}
    return {"measured": True, "pods": pods, "counts": moved, "per_pod": per_pod(moved, pods)}


class PhaseCounts:
    """The scheduler's attempts and the apiserver's writes, read from their /metrics before the
    measured pods are created and once they are bound. The apiserver's window holds the measured
    pods' creates in both modes; with --create-first the scheduler starts after them, its
    counters at 0. Not a figure at all when a page cannot be read or is not this cluster's."""

    def __init__(self, options: Options, own: OwnCluster | None) -> None:
        self.options, self.own = options, own
        unread = Counts({}, "not read")
        self.attempts_before = self.attempts_after = unread
        self.writes_before = self.writes_after = unread

    def _urls(self) -> tuple[list[str], list[str]]:
        if self.own is not None:
            return self.own.metrics_urls()
        assert self.options.server is not None
        apiserver = self.options.apiserver_metrics or server_metrics_url(self.options.server)
        return [apiserver], list(self.options.scheduler_metrics)

    async def _scrape(self, scheduler: bool) -> Counts:
        apiserver_urls, scheduler_urls = self._urls()
        if scheduler and not scheduler_urls:
            return Counts({}, "no --scheduler-metrics given")
        return await asyncio.to_thread(
            scrape,
            scheduler_urls if scheduler else apiserver_urls,
            attempts_by_result if scheduler else writes_by_request,
        )

    def scheduler_started(self) -> None:
        self.attempts_before = Counts({})  # a new process: every counter at 0

    async def before(self, scheduler: bool) -> None:
        self.writes_before = await self._scrape(scheduler=False)
        if scheduler:
            self.attempts_before = await self._scrape(scheduler=True)

    async def after_scheduling(self) -> None:
        self.attempts_after = await self._scrape(scheduler=True)

    async def after_writes(self) -> None:
        self.writes_after = await self._scrape(scheduler=False)

    def per_pod(self, measured: int, created: int, bound: int) -> JSONObject:
        """`created`, `bound`: the measured pods the run created and saw bound, which the pages
        must have counted."""
        return {
            "scheduling_attempts": figures(
                self.attempts_before,
                self.attempts_after,
                measured,
                attempts_per_pod,
                at_least=("scheduled", bound),
            ),
            "apiserver_writes": figures(
                self.writes_before,
                self.writes_after,
                measured,
                writes_per_pod,
                at_least=("pods create", created),
            ),
        }
