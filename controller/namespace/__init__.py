"""The namespace controller (kubernetes pkg/controller/namespace)."""
