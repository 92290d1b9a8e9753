"""podplane-adm: the steps `kubeadm` takes on a machine to make it part of a cluster
(`python -m adm --help`)."""
