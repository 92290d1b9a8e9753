"""The controller-manager: controllers that converge the cluster's actual state to its desired one."""
