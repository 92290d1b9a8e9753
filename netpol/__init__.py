"""The NetworkPolicy agent (`python -m netpol`): one per node, as kube-network-policies or
kindnet's policy controller run, enforcing networking.k8s.io/v1 NetworkPolicies on this node's
pods with iptables: informers over pods, namespaces and networkpolicies; on a change, the rules
are computed again (netpol/policy/) and written with one iptables-restore (netpol/iptables/)."""
