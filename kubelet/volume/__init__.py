"""Pod volumes on the node (pkg/kubelet/volumemanager): emptyDir, configMap, secret and hostPath,
and the atomic projection of configMap and secret files."""
