"""The local-path provisioner (after rancher/local-path-provisioner, which kind ships)."""
