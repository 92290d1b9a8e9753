"""`podplane-bench`: benchmarks and load tests of a podplane control plane (running or its own)."""
