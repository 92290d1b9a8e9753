"""The pods on each node, bound and assumed (kubernetes pkg/scheduler/backend/cache)."""
