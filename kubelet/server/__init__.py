"""The kubelet's own API (pkg/kubelet/server): container logs, exec and attach, which the
apiserver proxies, and who may call it."""
