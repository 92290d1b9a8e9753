"""Bootstrap tokens (k8s.io/cluster-bootstrap): the `<id>.<secret>` bearer tokens a node joins
with before it has a certificate, kept as Secrets of type bootstrap.kubernetes.io/token in
kube-system. What the apiserver's authenticator, the tokencleaner controller and podctl's
`token` commands all read and write."""
