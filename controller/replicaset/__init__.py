"""The ReplicaSet and ReplicationController controller (kubernetes pkg/controller/replicaset) and
the status it writes."""
