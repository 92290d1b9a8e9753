"""From a Kubernetes Container to a runtime container (kuberuntime_container.go): its config,
environment and security context, its image (pkg/kubelet/images), its lifecycle hooks
(pkg/kubelet/lifecycle), its restart policy and back-off."""
