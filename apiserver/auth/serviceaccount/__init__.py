"""Service account tokens (kubernetes pkg/serviceaccount): signed JWTs with Kubernetes' claims,
issued by the TokenRequest subresource and accepted by the authenticator."""
