"""What the scheduler keeps between decisions (kubernetes pkg/scheduler/backend)."""
