"""kube-proxy's iptables mode (pkg/proxy/iptables and pkg/util/iptables): chain names
(chains.py), the rules as a pure function of the proxier's maps (rules.py), the iptables
commands that apply them (runner.py), and the proxier that syncs the two (proxier.py)."""
