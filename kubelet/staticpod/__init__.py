"""Static pods (pkg/kubelet/config's file source): pods read from the manifest directory, and
their mirror pods, the API's read-only copies of them."""
