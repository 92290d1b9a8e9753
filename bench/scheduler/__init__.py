"""The scheduler load test on hollow nodes (`podplane-bench scheduler`: loadtest.py), judged against
clusterloader2's and scheduler_perf's throughput targets (targets.py); and the CPU of one
scheduling decision, in process (`scheduler-decision`: decision.py)."""
