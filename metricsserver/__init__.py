"""The cluster's metrics API add-on (kubernetes-sigs/metrics-server): scrapes every node's
kubelet `/metrics/resource`, keeps the last two points of each node and container, and serves
`metrics.k8s.io/v1beta1` NodeMetrics and PodMetrics behind the apiserver's aggregation layer,
what `kubectl top` and the HorizontalPodAutoscaler read."""
