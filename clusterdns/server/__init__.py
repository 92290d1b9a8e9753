"""Serving DNS: the query handler (handler.py), its UDP and TCP listeners (transport.py) and the
upstream resolvers for names outside the cluster (forward.py)."""
