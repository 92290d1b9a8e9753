"""podplane-bench autoscaling: the HPA's reaction time, the kubelet's CPU for its stats and
the metrics add-on's at rest (benchmark.py)."""
