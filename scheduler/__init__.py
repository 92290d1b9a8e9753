"""The scheduler: assigns each pending pod to a node that fits it (kube-scheduler's framework)."""
