"""Cluster DNS: the add-on that answers for the cluster's Services and pods under cluster.local
(Kubernetes' DNS specification, as CoreDNS's kubernetes plugin serves it), deployed in the
cluster as the kube-dns Service (docker/addons/cluster-dns.yaml, which the addon-manager applies).
`python -m clusterdns`."""
