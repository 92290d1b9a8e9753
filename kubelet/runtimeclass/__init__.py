"""RuntimeClasses on the node: which runtime handler a pod runs with, and what it can do."""
