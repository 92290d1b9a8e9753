"""Node IPAM (kubernetes pkg/controller/nodeipam): the controller that gives nodes a podCIDR and
the allocator of the cluster CIDR's subnets (ipam/cidrset)."""
