"""Pod start-up latency on a running cluster (`podplane-bench pods`: benchmark.py), judged against
Kubernetes' pod start-up SLO (report.py)."""
