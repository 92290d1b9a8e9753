"""iptables as podplane's node agents run it (kube-proxy, the NetworkPolicy agents)."""
