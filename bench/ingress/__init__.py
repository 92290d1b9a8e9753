"""The ingress controller's benchmark (`podplane-bench ingress`)."""
