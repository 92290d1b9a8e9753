"""What a cluster at rest costs: the CPU of each container and of the processes in it."""
