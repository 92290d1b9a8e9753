"""The node agent: registers the Node, renews its Lease, runs the pods bound to it through the
container runtime and reports their status."""
