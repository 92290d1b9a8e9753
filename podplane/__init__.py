"""API machinery shared by every podplane component: resource kinds, the typed client, informers,
the work queue, manifests, quantities and selectors. Generated protobuf code lives in podplane.api."""
