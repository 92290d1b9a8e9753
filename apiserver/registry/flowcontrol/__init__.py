"""What the apiserver keeps of the flowcontrol.apiserver.k8s.io objects itself (kubernetes
pkg/registry/flowcontrol): Kubernetes' bootstrap configuration, ensured."""
