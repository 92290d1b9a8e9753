"""The controller-manager: controllers that converge the cluster's actual state to its desired one.

One folder per controller (deployment/, replicaset/, job/, nodelifecycle/, nodeipam/,
garbagecollector/, namespace/), as kube-controller-manager's pkg/controller; framework/ holds what
they are built from; controllers.py lists them by name; __main__.py is the command."""
