"""Service account tokens for the pods of this node (pkg/kubelet/token)."""
