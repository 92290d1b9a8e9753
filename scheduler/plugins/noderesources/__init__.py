"""NodeResourcesFit, NodeResourcesBalancedAllocation and what they share (plugins/noderesources)."""
