"""Running pods (kubelet.go and kuberuntime SyncPod): the pod workers and the level-triggered
PodSyncer, the actions that bring a pod to its spec, the sandbox that gives it its IP, the one
container start every kind of container goes through, termination, ephemeral containers, the PLEG
that notices runtime changes, and housekeeping."""
