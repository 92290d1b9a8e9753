"""The service account controller (kubernetes pkg/controller/serviceaccount)."""
