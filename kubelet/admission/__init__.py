"""Pod admission (pkg/kubelet/lifecycle): whether the node takes a pod bound to it."""
