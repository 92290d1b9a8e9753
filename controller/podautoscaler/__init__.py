"""The horizontal pod autoscaler controller (kubernetes pkg/controller/podautoscaler)."""
