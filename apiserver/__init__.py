"""The API server: validates, defaults and stores objects in etcd; serves List and Watch."""
