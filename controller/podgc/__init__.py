"""The pod garbage collector (kube-controller-manager's pod-garbage-collector)."""
