"""Calling webhooks as kube-apiserver does (k8s.io/apiserver/pkg/util/webhook and
pkg/admission/plugin/webhook): admission webhooks, and later CRD conversion webhooks and aggregated
APIs. One job per module, on plain dataclasses and Kubernetes' JSON shapes:

- `config`: where a webhook is (a URL, or a Service with path and port) and the CA it trusts;
- `resolver`: a Service to one ready endpoint of its EndpointSlices (--enable-aggregator-routing);
- `client`: POST JSON over HTTPS within a deadline, connections reused per configuration;
  `certificates` and `decoding` word its TLS failures and unusable answers as Go does;
- `errors`: the failures, each worded as Kubernetes words it;
- `admission_review`: AdmissionReview v1 requests and responses, denials; `mutation` applies a
  mutating webhook's JSON patch; `call` calls one admission webhook as the dispatchers do;
- `rules`, `matching`, `conditions`: which webhooks a request is sent to.
"""
