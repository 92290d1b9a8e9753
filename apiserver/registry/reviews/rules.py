"""SelfSubjectRulesReview (pkg/registry/authorization/selfsubjectrulesreview): what may the
caller do in this namespace? The rules the authorizer resolves for the caller (impersonated or
not), split as Kubernetes' RBAC authorizer splits them into resource and non-resource rules."""

from __future__ import annotations

from apiserver import errors
from apiserver.auth.authorizer import Authorizer
from apiserver.registry.reviews.access import requester
from podplane.api.authorization.v1 import authorization_pb2
from podplane.api.rbac.v1 import rbac_pb2
from podplane.apimachinery import resources


def status(
    rules: list[rbac_pb2.PolicyRule], errs: list[str], incomplete: bool
) -> authorization_pb2.SubjectRulesReviewStatus:
    """The review's status: a rule naming resources is a resource rule, one naming URLs a
    non-resource rule (RBACAuthorizer.RulesFor); the errors as one, as utilerrors'
    aggregate words several."""
    out = authorization_pb2.SubjectRulesReviewStatus(incomplete=incomplete)
    for rule in rules:
        if rule.resources:
            out.resource_rules.add(
                verbs=rule.verbs,
                api_groups=rule.api_groups,
                resources=rule.resources,
                resource_names=rule.resource_names,
            )
        if rule.non_resource_urls:
            out.non_resource_rules.add(verbs=rule.verbs, non_resource_urls=rule.non_resource_urls)
    unique = list(dict.fromkeys(errs))
    if unique:
        out.evaluation_error = unique[0] if len(unique) == 1 else "[" + ", ".join(unique) + "]"
    return out


class SelfSubjectRulesReviews:
    resource = resources.SELF_SUBJECT_RULES_REVIEW

    def __init__(self, authorizer: Authorizer) -> None:
        self.authorizer = authorizer

    async def create(
        self, obj: authorization_pb2.SelfSubjectRulesReview
    ) -> authorization_pb2.SelfSubjectRulesReview:
        """Kubernetes answers with a new object: only the status, the spec sent is not kept."""
        user = requester()
        namespace = obj.spec.namespace
        if not namespace:
            raise errors.bad_request("no namespace on request")
        resolved = self.authorizer.rules_for(user, namespace)
        return authorization_pb2.SelfSubjectRulesReview(
            api_version=obj.api_version,
            kind=obj.kind,
            status=status(resolved.rules, resolved.errors, resolved.incomplete),
        )
