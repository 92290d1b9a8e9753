"""A pod's status (pkg/kubelet/status): generated from what the runtime reports (container
statuses, phase, conditions) and written to the apiserver by the status manager."""
