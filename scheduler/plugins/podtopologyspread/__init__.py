"""PodTopologySpread: the plugin (plugin.py) and its arguments, the default constraints
(args.py)."""

from scheduler.plugins.podtopologyspread.args import DO_NOT_SCHEDULE, SCHEDULE_ANYWAY
from scheduler.plugins.podtopologyspread.plugin import (
    NAME,
    PodTopologySpread,
    constraints,
    count_matching,
    new,
)

__all__ = [
    "DO_NOT_SCHEDULE",
    "NAME",
    "SCHEDULE_ANYWAY",
    "PodTopologySpread",
    "constraints",
    "count_matching",
    "new",
]
