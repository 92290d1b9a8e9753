"""The agent's iptables: the rules as text for iptables-restore (rules.py) and the commands that
write them (runner.py)."""
