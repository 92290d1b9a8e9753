"""The EndpointSlice controller (kubernetes pkg/controller/endpointslice and
staging/src/k8s.io/endpointslice): the EndpointSlices of each Service with a selector."""
