"""The aggregation layer (k8s.io/kube-aggregator): requests for the group/version of an
APIService that names a Service are proxied to it, one job per module:

- `backends`: the APIServices that name a Service, by group/version, from their watch cache;
- `headers`: the front proxy's X-Remote-* headers (client-go's SetAuthProxyHeaders);
- `transport`: reaching a backend: its Service resolved to a ready endpoint, TLS verified
  against the caBundle as <service>.<namespace>.svc, the front-proxy client certificate;
- `proxy`: the proxy handler (handler_proxy.go), streaming its answers;
- `available`: the Available condition (AvailableConditionController);
- `discovery`: the backends' discovery documents merged into /apis (handler_apis.go,
  handler_discovery.go);
- `openapi`: the backends' OpenAPI v3 roots merged into /openapi/v3, their documents proxied
  (the openapiv3 specProxier);
- `authentication_trust`: kube-system's extension-apiserver-authentication ConfigMap and its
  reader Role (clusterauthenticationtrust)."""
