"""The gRPC front door, a thin adapter over the registry: door.py assembles it from the servicers
(decode, call the registry, encode; status.py turns an APIError into the call's status) and the
interceptors (interceptors/)."""
