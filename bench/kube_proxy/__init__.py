"""kube-proxy's figures: full and partial sync time (sync.py), and Service programming latency
on a running cluster (programming.py)."""
