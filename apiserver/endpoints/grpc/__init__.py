"""The gRPC front door: the servicers and the interceptors, thin adapters over the domain code."""
