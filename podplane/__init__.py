"""The libraries every podplane component shares, in nine packages, as Kubernetes splits them
(tests/unit/test_layering.py declares their order: each imports only those below it):

- podplane.componentbase: a long-running component's plumbing (component-base): flags, the gRPC
  server, metrics and health endpoints, the PKI.
- podplane.printers: each kind's table (pkg/printers), shared by the apiserver's metav1.Table and
  podctl.
- podplane.streaming: the exec, attach and port-forward wire protocols kubectl speaks, and the
  relays to the kubelet's streams.
- podplane.client: talking to the apiserver (client-go): the typed client, credentials,
  informers, the work queue, leader election, the event recorder.
- podplane.volume: what every component knows of persistent volumes (component-helpers/storage).
- podplane.rbac: RBAC rules every component shares: cluster role aggregation.
- podplane.bootstraptoken: bootstrap tokens, the Secrets nodes join with (k8s.io/cluster-bootstrap).
- podplane.apimachinery: the API's own rules (apimachinery): the table of kinds, manifests,
  quantities, selectors, times, and helpers over the API types.
- podplane.api: the generated protobuf code (make protos); never edit it."""

import prometheus_client

# Kubernetes' metrics have no `_created` series; prometheus_client adds one to every counter.
prometheus_client.disable_created_metrics()  # type: ignore[no-untyped-call]
