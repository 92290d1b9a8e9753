"""The ReplicaSet controller, which runs ReplicationControllers too (kubernetes
pkg/controller/replicaset): the controller, the two kinds it runs and the status it writes."""
