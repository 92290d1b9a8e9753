"""Library code over the workload kinds (replication controllers, replica sets, deployments, jobs):
what a controller owns, rollouts, scaling."""
