"""The Deployment controller (kubernetes pkg/controller/deployment): the controller, the
rollout arithmetic, revisions and template hashes, status and conditions, ReplicaSet claiming."""
