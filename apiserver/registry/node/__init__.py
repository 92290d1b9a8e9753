"""Node subresources beyond status: nodes/proxy (proxy.py)."""
