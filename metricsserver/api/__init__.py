"""The metrics.k8s.io/v1beta1 API: its objects, who may ask, and the HTTPS server."""
