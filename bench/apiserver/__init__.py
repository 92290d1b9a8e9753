"""The apiserver's benchmarks: write throughput and watch delivery against the raw etcd ceiling
(`podplane-bench apiserver`: benchmark.py, judged in report.py), accepted and refused calls under
overload (`apiserver-overload`: overload.py), and its CPU per call, piece by piece
(`apiserver-costs`: costs.py; `grpc-costs`: grpc_costs.py; the node leases' renewals at a
fleet's rate, `lease-renewals`: lease_renewals.py)."""
