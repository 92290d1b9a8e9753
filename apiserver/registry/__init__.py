"""The registry (k8s.io/apiserver/pkg/registry): every kind stored in etcd through its strategy
(store.py, strategy.py, deletion.py), read through the watch cache (cacher.py) or etcd itself
(uncached.py, watch.py), and the pods' subresources (pod/)."""
