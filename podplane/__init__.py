"""The libraries every podplane component shares, in three packages, as Kubernetes splits them:

- podplane.client: talking to the apiserver (client-go): the typed client, credentials,
  informers, the work queue, leader election, the event recorder.
- podplane.apimachinery: the API's own rules (apimachinery): the table of kinds, manifests,
  quantities, selectors, times, and helpers over the API types.
- podplane.componentbase: a long-running component's plumbing (component-base): flags, the gRPC
  server, metrics and health endpoints, the PKI.

Generated protobuf code lives in podplane.api (make protos); never edit it."""

import prometheus_client

# Kubernetes' metrics have no `_created` series; prometheus_client adds one to every counter.
prometheus_client.disable_created_metrics()  # type: ignore[no-untyped-call]
