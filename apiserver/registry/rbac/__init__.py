"""The RBAC kinds' storage concerns beyond the generic store: the bootstrap policy's
reconciliation at start."""
