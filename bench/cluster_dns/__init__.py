"""DNS query latency from a pod (`podplane-bench dns`)."""
