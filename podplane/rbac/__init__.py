"""RBAC rules every component shares: cluster role aggregation (the controller-manager's
controller and the apiserver's in-memory bootstrap policy compute it the same way)."""
