"""Storage: the etcd v3 client (the only code that talks to etcd) and the object store over it."""
