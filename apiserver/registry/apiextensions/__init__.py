"""The apiserver's own controllers of CustomResourceDefinitions (k8s.io/apiextensions-apiserver/
pkg/controller): naming (NamesAccepted and status.acceptedNames), establishing (Established)
and the cleanup finalizer (a deleted definition's objects deleted before it goes). Each runs in
every apiserver over its watch cache of definitions and writes with compare-and-swap, so
several apiservers converge."""
