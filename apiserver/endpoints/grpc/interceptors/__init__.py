"""The gRPC door's interceptors: each adapts one door-neutral concern (authentication,
authorization, the overload guard, metrics, request decoding) to gRPC's method handlers."""
