"""The apiserver's two front doors side by side (`podplane-bench apiserver-doors`): creates over
HTTP and over gRPC at several client counts, watch delivery to HTTP watchers, and `kubectl get
pods` against `podctl get pods`, in one run against one TLS apiserver (benchmark.py, judged in
report.py against the HTTP door's target of 0.8 of the gRPC door's throughput)."""
