"""RBAC over the rbac.authorization.k8s.io objects (plugin/pkg/auth/authorizer/rbac and
pkg/registry/rbac): rule and subject matching, the policy cache indexed by subject, the rule
resolver, escalation prevention and the bootstrap policy."""
