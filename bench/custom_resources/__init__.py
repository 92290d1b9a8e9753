"""`podplane-bench custom-resources`: creates/s of a custom resource beside a ConfigMap of the
same size, in one run."""
