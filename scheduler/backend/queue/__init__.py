"""The pods waiting to be scheduled (kubernetes pkg/scheduler/backend/queue)."""
