"""Reading the kubelets: where each node's is, asking it for `/metrics/resource`, and decoding
the answer into metric points."""
