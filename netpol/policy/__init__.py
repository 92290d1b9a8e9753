"""What the policies allow, as data: which local pods are isolated in which direction, and what
each may send or receive (pure functions, no iptables)."""
