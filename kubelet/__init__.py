"""The node agent: registers the Node, renews its Lease, runs the pods bound to it through the
container runtime and reports their status.

kubelet.py wires it together (config.py: its flags, metrics.py: its metrics). pod/ runs pods (the
workers, PodSyncer, the sandbox that holds the pod IP, termination, the PLEG); status/ generates
and writes their status; container/ turns a Container into a runtime container (config, env,
image, hooks, restarts); runtime/ is the runtime interface with Docker and hollow behind it;
volume/ sets up pod volumes; prober/ runs probes; node/ keeps the Node, its status and its Lease;
server/ is the kubelet's API (logs, exec, attach, port-forward); staticpod/ reads
manifest-directory pods and keeps their mirror pods."""
