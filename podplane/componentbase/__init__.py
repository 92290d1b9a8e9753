"""A long-running component's plumbing, as component-base holds it: the process's life (app),
flags, the gRPC server with health and reflection (serving), the /metrics endpoint, the health
check command, and the cluster's PKI."""
