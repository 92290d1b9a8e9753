"""The pods resource's subresources: binding, ephemeral containers, and log, exec and attach
proxied to the node's kubelet."""
