"""The controller-manager's command line, one option group per controller that has flags, as
kube-controller-manager's options (cmd/kube-controller-manager/app/options: one file per
controller): which controllers run (generic.py), node lifecycle, pod GC, node IPAM, the
local-path provisioner, the service account controller's root CA, CSR signing, the horizontal
pod autoscaler, the service load balancers' address pool. Each adds its flags and validates
them; controller/__main__.py gathers them into ControllerOptions."""
