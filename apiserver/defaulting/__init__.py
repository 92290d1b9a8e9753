"""Defaults the server fills in, kind by kind (Kubernetes' pkg/apis/*/v1/defaults.go)."""
