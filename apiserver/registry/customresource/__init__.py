"""The objects of the kinds CustomResourceDefinitions add (k8s.io/apiextensions-apiserver/pkg/
registry/customresource and the crdHandler's serving info): for each served version of an
established definition, a store over the generic registry with a strategy made from the
version's schema, JSON storage under /registry/<group>/<plural>/, a watch cache, the status and
scale subresources and the printer columns' table. apiserver/registry/served.py puts them beside
the built-in kinds, where both doors find them."""
