"""The cluster role aggregation controller (kubernetes pkg/controller/clusterroleaggregation)."""
