"""The gRPC door's interceptors: each adapts one door-neutral concern (authentication,
authorization, the overload guard, metrics, request decoding) to gRPC's method handlers, reading
what a method is in Kubernetes' terms from request_info."""
