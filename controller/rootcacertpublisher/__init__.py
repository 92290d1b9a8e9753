"""The root CA publisher (kubernetes pkg/controller/certificates/rootcacertpublisher)."""
