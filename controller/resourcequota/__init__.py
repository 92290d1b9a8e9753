"""The resource quota controller (kubernetes pkg/controller/resourcequota)."""
