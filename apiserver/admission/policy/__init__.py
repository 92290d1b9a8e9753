"""The ValidatingAdmissionPolicy admission plugin, as Kubernetes 1.31's
(k8s.io/apiserver/pkg/admission/plugin/policy/validating, generic and matching), one job per
module:

- `compiled`: a policy's CEL expressions compiled once per stored version of it;
- `bindings`: the variables an expression is evaluated with (request, namespaceObject, lazy
  `variables`, the Authorizer library's checks);
- `validator`: a policy's match conditions, validations and audit annotations for one request
  and one param: the decisions;
- `matching`: matchConstraints and a binding's matchResources against a request;
- `params`: the param objects a binding names (paramRef by name or selector);
- `plugin`: the plugin in the validating phase, reading policies and bindings from the watch
  caches, and the outcomes (Deny, Warn, Audit);
- `type_checking`: the status controller's expression warnings.

The apiserver assembles it over its watch caches in apiserver/controlplane/admission_policy.py,
and runs the policies' status controller there (policy_status.py).
"""
