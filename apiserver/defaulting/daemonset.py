"""Defaults of DaemonSets (kubernetes pkg/apis/apps/v1/defaults.go SetDefaults_DaemonSet):
RollingUpdate with maxUnavailable 1 and maxSurge 0, ten old revisions kept, and the pod
template's defaults as a Deployment's get."""

from __future__ import annotations

from apiserver.defaulting.pod import pod_spec
from podplane.api.apps.v1 import apps_pb2

ROLLING_UPDATE = "RollingUpdate"
DEFAULT_MAX_UNAVAILABLE = "1"
DEFAULT_MAX_SURGE = "0"
DEFAULT_REVISION_HISTORY_LIMIT = 10


def daemon_set(obj: apps_pb2.DaemonSet) -> None:
    spec = obj.spec
    strategy = spec.update_strategy
    strategy.type = strategy.type or ROLLING_UPDATE
    if strategy.type == ROLLING_UPDATE:
        rolling = strategy.rolling_update
        if not rolling.HasField("max_unavailable"):
            rolling.max_unavailable = DEFAULT_MAX_UNAVAILABLE
        if not rolling.HasField("max_surge"):
            rolling.max_surge = DEFAULT_MAX_SURGE
    if not spec.HasField("revision_history_limit"):
        spec.revision_history_limit = DEFAULT_REVISION_HISTORY_LIMIT
    # Kubernetes' template is a value, not a pointer: its defaults apply even when none is given.
    pod_spec(spec.template.spec)
