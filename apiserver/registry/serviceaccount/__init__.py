"""The service account subresources (kubernetes pkg/registry/core/serviceaccount)."""
