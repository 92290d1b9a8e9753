"""VolumeBinding: its decisions (binder.py), its assumptions (assume_cache.py) and the plugin
(plugin.py)."""

from scheduler.plugins.volumebinding.plugin import NAME, VolumeBinding, new

__all__ = ["NAME", "VolumeBinding", "new"]
