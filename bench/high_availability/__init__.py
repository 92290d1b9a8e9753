"""The highly available profile's figures (docker-compose.ha.yml): losses of an etcd leader and of
an apiserver, and write throughput through one against three apiservers."""
