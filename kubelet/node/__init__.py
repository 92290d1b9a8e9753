"""The Node itself: registration and node status (pkg/kubelet/nodestatus), the lease (nodelease),
resource pressure, machine info and the node's address."""
