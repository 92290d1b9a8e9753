"""The admission webhook plugins (k8s.io/apiserver/pkg/admission/plugin/webhook): `source` reads
the webhook configurations from the apiserver's watch caches (configuration/), `request` makes
what a webhook is asked from admission's Attributes and its answers into the registry's errors
(generic/), `mutating` and `validating` are MutatingAdmissionWebhook and
ValidatingAdmissionWebhook, `metrics` their series. One webhook is called by apiserver.webhook."""
