"""The node's and its pods' resource usage (Kubernetes' pkg/kubelet/stats and server/stats): the
node's own cgroup and host figures, the CRI's container and sandbox stats, made into the
statsapi Summary (/stats/summary) and the Prometheus texts of /metrics/resource and
/metrics/cadvisor."""
