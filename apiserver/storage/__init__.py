"""Storage: the etcd v3 client (the only code that talks to etcd), its watch stream on a thread,
the compactor of etcd's history, and etcd's metrics."""
