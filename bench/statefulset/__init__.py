"""`podplane-bench statefulset`: StatefulSet scale-up time on a running cluster."""
