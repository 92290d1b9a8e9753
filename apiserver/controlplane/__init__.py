"""What an apiserver keeps up about itself in the API while it runs, beside its registry
(kubernetes pkg/controlplane): its identity Lease and the collection of gone apiservers' leases
(identity.py)."""
