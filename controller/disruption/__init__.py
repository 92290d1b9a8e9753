"""The disruption controller (kubernetes pkg/controller/disruption): budgets' status."""
