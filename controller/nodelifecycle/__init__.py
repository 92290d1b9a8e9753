"""The node lifecycle controller (kubernetes pkg/controller/nodelifecycle): node health from
leases and heartbeats, the NoExecute taints, and the eviction of pods that do not tolerate them
(pkg/controller/tainteviction)."""
