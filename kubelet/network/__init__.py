"""The pod network as the kubelet sets it up for each pod: its DNS resolver configuration."""
