"""The services resource's registry (kubernetes pkg/registry/core/service): what a write of a
Service adds to the generic store (allocator.py: cluster IPs and node ports claimed and released in
the Service's own etcd transaction, from the ranges of ipallocator.py and portallocator.py, after
ipfamilies.py settled its IP families), the check that claims and Services agree (repair.py), and
the `kubernetes` Service of the apiserver itself (kubernetes_service.py). What a write changes
before validation is apiserver/defaulting/service_prepare.py's."""
