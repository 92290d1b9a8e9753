"""PodTopologySpread: the plugin (plugin.py), its arguments and default constraints (args.py), a
pod's constraints and the pods one selects (constraints.py), and the filtering state
(filtering.py)."""

from scheduler.plugins.podtopologyspread.args import DO_NOT_SCHEDULE, SCHEDULE_ANYWAY
from scheduler.plugins.podtopologyspread.constraints import constraints, count_matching
from scheduler.plugins.podtopologyspread.plugin import NAME, PodTopologySpread, new

__all__ = [
    "DO_NOT_SCHEDULE",
    "NAME",
    "SCHEDULE_ANYWAY",
    "PodTopologySpread",
    "constraints",
    "count_matching",
    "new",
]
