"""kubectl describe's layouts for podplane's kinds
(kubernetes staging/src/k8s.io/kubectl/pkg/describe/describe.go)."""
