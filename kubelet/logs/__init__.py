"""Container logs on the node (pkg/kubelet/logs, and the log part of the container GC): rotation
of running containers' logs, and the log directories of pods that are gone."""
