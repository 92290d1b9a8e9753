"""When a CronJob's Jobs are due (kubernetes pkg/controller/cronjob/utils.go): the most recent
scheduled time not yet run, how many were missed, and when to look at the CronJob again.

Schedules without spec.timeZone are in the controller-manager's time zone, which in podplane's
images is UTC, as in kube-controller-manager's."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from podplane.api.batch.v1 import batch_pb2
from podplane.apimachinery import timeutil
from podplane.apimachinery.cron import Schedule, load_location, parse_standard

# Requeued a little after the scheduled time, so the time has passed when the sync runs.
NEXT_SCHEDULE_DELTA = timedelta(milliseconds=100)
# More missed start times than this and the CronJob gets the TooManyMissedTimes event.
MANY_MISSED = 100


class Missed(enum.Enum):
    NONE = "none"
    FEW = "few"
    MANY = "many"


class InvalidSchedule(ValueError):
    """A schedule that parses but fires less than a second apart or never (31 February)."""


def format_schedule(cron_job: batch_pb2.CronJob) -> str:
    """The schedule with its time zone as a TZ= prefix, which robfig/cron reads (an unknown zone
    is left out: the sync reports it first)."""
    spec = cron_job.spec
    if "TZ" in spec.schedule or not spec.HasField("time_zone"):
        return spec.schedule
    try:
        load_location(spec.time_zone)
    except ValueError:
        return spec.schedule
    return f"TZ={spec.time_zone} {spec.schedule}"


def parse(cron_job: batch_pb2.CronJob) -> Schedule:
    """The CronJob's schedule; CronError if it does not parse."""
    return parse_standard(format_schedule(cron_job))


def _time(value: str) -> datetime | None:
    t = timeutil.parse(value)
    return t.astimezone(UTC) if t is not None else None


@dataclass(frozen=True)
class Recent:
    earliest: datetime  # the last schedule time, or the creation time
    most_recent: datetime | None  # the latest time due by now, if any
    missed: Missed


def most_recent_schedule_time(
    cron_job: batch_pb2.CronJob,
    now: datetime,
    schedule: Schedule,
    include_starting_deadline: bool,
) -> Recent:
    """mostRecentScheduleTime: InvalidSchedule when two consecutive times are less than a second
    apart (or never come)."""
    spec = cron_job.spec
    earliest = (
        _time(cron_job.status.last_schedule_time)
        or _time(cron_job.metadata.creation_timestamp)
        or now
    )
    if include_starting_deadline and spec.HasField("starting_deadline_seconds"):
        deadline = now - timedelta(seconds=spec.starting_deadline_seconds)
        earliest = max(earliest, deadline)
    t1 = schedule.next(earliest)
    if t1 is None:  # Go's zero time: before now, and so is the one after it
        raise InvalidSchedule("time difference between two schedules is less than 1 second")
    t2 = schedule.next(t1)
    if now < t1:
        return Recent(earliest, None, Missed.NONE)
    if t2 is not None and now < t2:
        return Recent(earliest, t1, Missed.NONE)
    between = round((t2 - t1).total_seconds()) if t2 is not None else 0
    if between < 1:
        raise InvalidSchedule("time difference between two schedules is less than 1 second")
    # How many fit since t1, roughly (the interval of irregular schedules varies); then the
    # exact latest, from a little before it.
    missed_count = int((now - t1).total_seconds()) // between + 1
    t = t1 + timedelta(seconds=(missed_count - 2) * between)
    most_recent: datetime | None = None
    while (upcoming := schedule.next(t)) is not None and upcoming <= now:
        most_recent = t = upcoming
    missed = Missed.MANY if missed_count > MANY_MISSED else Missed.FEW
    return Recent(earliest, most_recent, missed)


def next_schedule_delay(
    cron_job: batch_pb2.CronJob, now: datetime, schedule: Schedule
) -> float | None:
    """Seconds until the sync should run again (nextScheduleTimeDuration): just past the next
    scheduled time; None if there is none."""
    try:
        recent = most_recent_schedule_time(cron_job, now, schedule, False)
        base = recent.most_recent or (recent.earliest if recent.missed is Missed.NONE else now)
    except InvalidSchedule:
        base = now
    upcoming = schedule.next(base)
    if upcoming is None:
        return None
    return (upcoming + NEXT_SCHEDULE_DELTA - now).total_seconds()


def job_name(cron_job: batch_pb2.CronJob, scheduled: datetime) -> str:
    """<cronjob>-<the scheduled time in minutes since the epoch>: one name per scheduled time, so
    a Job is never created twice for it."""
    return f"{cron_job.metadata.name}-{int(scheduled.timestamp()) // 60}"


def scheduled_timestamp(cron_job: batch_pb2.CronJob, scheduled: datetime) -> str:
    """The batch.kubernetes.io/cronjob-scheduled-timestamp annotation: RFC 3339 in the
    CronJob's time zone (UTC without one)."""
    zone = load_location(cron_job.spec.time_zone)
    return scheduled.astimezone(zone).isoformat().replace("+00:00", "Z")
