"""kube-proxy: programs each node's iptables so that a Service's cluster IP, node ports and
external addresses reach the Service's endpoints, as kube-proxy's iptables mode does.

server.py wires it together (__main__.py: its flags); state/ turns the Services and
EndpointSlices the informers deliver into the proxier's maps (pkg/proxy's change trackers and
EndpointSlice cache); iptables/ generates the rules from those maps (a pure function), applies
them with iptables-restore and keeps them in sync (pkg/proxy/iptables); sync_runner.py limits
how often a sync runs (BoundedFrequencyRunner); healthcheck.py serves /healthz; metrics.py holds
its metrics."""
