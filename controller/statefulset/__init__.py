"""The StatefulSet controller (kubernetes pkg/controller/statefulset)."""
