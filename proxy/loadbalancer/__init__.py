"""Load balancer addresses on the nodes: which node announces which, and how."""
