"""`podplane-bench netpol`: the NetworkPolicy agent's programming time (sync.py)."""
