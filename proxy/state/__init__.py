"""What kube-proxy knows of the cluster: each service port's settings (service_port.py), its
endpoints from the EndpointSlices (endpoints.py), which of them a node's traffic may use
(topology.py), and the tracker that keeps both maps and the services changed since the last
sync (tracker.py)."""
