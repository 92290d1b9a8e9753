"""What an apiserver keeps up about itself in the API while it runs, beside its registry
(kubernetes pkg/controlplane): its identity Lease and the collection of gone apiservers' leases
(identity.py); the ValidatingAdmissionPolicy plugin's sources, its watch caches and served
resources (admission_policy.py), and the policies' status controller (policy_status.py)."""
