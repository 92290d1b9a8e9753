"""`podplane-bench`: benchmarks and load tests of a podplane control plane (running or its own).

`__main__` is the CLI: one sub-command per benchmark, each a package named for what it measures
(apiserver/, pod_startup/, scheduler/) over common/, what they share."""
