"""What every component knows of persistent volumes (kubernetes k8s.io/component-helpers/storage/
volume): the annotations and finalizers they exchange, and how a claim is matched to a volume."""
