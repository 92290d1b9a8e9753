"""The CRI runtime: the kubelet speaks CRI v1 over gRPC to containerd (runtime.py)."""
