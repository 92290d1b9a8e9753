"""The kubelet's own client certificate: TLS bootstrapping (pkg/kubelet/certificate)."""
