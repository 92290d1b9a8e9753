"""The apiserver's front doors (k8s.io/apiserver/pkg/endpoints): each decodes a request, calls the
same domain code (authenticate, authorize, guard, admit, validate, store) and encodes the answer.
What the doors share is here: what a request is (request.py) and the request metrics
(metrics.py)."""
