"""DefaultPreemption: the PostFilter plugin that preempts lower-priority pods (plugin.py), and its
choice of victims on a node (victims.py)."""

from scheduler.plugins.defaultpreemption.plugin import NAME, DefaultPreemption, new

__all__ = ["NAME", "DefaultPreemption", "new"]
