"""Cron schedules as Kubernetes reads them: robfig/cron v3's standard parser (five fields, the
@hourly-style descriptors and @every, an optional TZ= or CRON_TZ= prefix) and its next-time
computation, in a time zone from the system's IANA database (Python's zoneinfo)."""

from podplane.apimachinery.cron.parser import CronError, parse_standard
from podplane.apimachinery.cron.schedule import ConstantDelaySchedule, Schedule, SpecSchedule
from podplane.apimachinery.cron.zones import UnknownTimeZone, load_location

__all__ = [
    "ConstantDelaySchedule",
    "CronError",
    "Schedule",
    "SpecSchedule",
    "UnknownTimeZone",
    "load_location",
    "parse_standard",
]
