"""Per-kind strategies and the generic registry that stores objects through them."""
