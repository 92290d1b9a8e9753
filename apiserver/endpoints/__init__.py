"""The apiserver's front doors: each decodes a request, calls the same domain code (authenticate,
authorize, guard, admit, validate, store) and encodes the answer (k8s.io/apiserver/pkg/endpoints)."""
