"""Why a pod's volumes cannot be set up."""

from __future__ import annotations


class VolumeError(Exception):
    """A volume cannot be set up; the message names the volume."""


class VolumeNotReady(VolumeError):
    """A volume cannot be mounted yet, but may be soon (a claim not bound yet): the pod waits in
    ContainerCreating, and the kubelet reports FailedMount."""
