"""The kubelet HTTPS API's authorization as Kubernetes' kubelet maps a request (auth.go): the
verb from the method, the subresource from the path's first segment; its refusal texts; and its
webhook decisions, cached (authorized 5 minutes, unauthorized 30 seconds)."""

from __future__ import annotations

import pytest

from kubelet.server.auth import (
    User,
    WebhookAuth,
    authorization_error,
    certificate_user,
    forbidden,
    request_attributes,
)
from podplane.api.authentication.v1 import authentication_pb2
from podplane.api.authorization.v1 import authorization_pb2


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", "/stats/summary", ("get", "stats")),
        ("GET", "/stats", ("get", "stats")),
        ("GET", "/statsz", ("get", "proxy")),
        ("GET", "/metrics", ("get", "metrics")),
        ("GET", "/metrics/cadvisor", ("get", "metrics")),
        ("GET", "/metrics/resource", ("get", "metrics")),
        ("GET", "/logs/", ("get", "log")),
        ("GET", "/spec/", ("get", "spec")),
        ("GET", "/pods", ("get", "proxy")),
        ("GET", "/healthz", ("get", "proxy")),
        ("GET", "/containerLogs/ns/pod/c", ("get", "proxy")),
        ("POST", "/exec/ns/pod/c", ("create", "proxy")),
        ("PUT", "/x", ("update", "proxy")),
        ("PATCH", "/x", ("patch", "proxy")),
        ("DELETE", "/x", ("delete", "proxy")),
        ("HEAD", "/x", ("", "proxy")),
    ],
)
def test_request_attributes(method: str, path: str, expected: tuple[str, str]) -> None:
    assert request_attributes(method, path) == expected


def test_refusal_texts() -> None:
    assert forbidden("system:node:node-2", "get", "stats") == (
        "Forbidden (user=system:node:node-2, verb=get, resource=nodes, subresource=stats)"
    )
    assert authorization_error("u", "get", "metrics") == (
        "Authorization error (user=u, verb=get, resource=nodes, subresource=metrics)"
    )


def test_a_certificate_names_the_user_and_groups() -> None:
    assert certificate_user("CN=system:node:node-1,O=system:nodes") == User(
        "system:node:node-1", ("system:nodes", "system:authenticated")
    )
    assert certificate_user(None) is None


class FakeReviews:
    def __init__(self) -> None:
        self.allowed = True
        self.access_reviews: list[authorization_pb2.SubjectAccessReview] = []
        self.token_reviews = 0

    async def create_token_review(
        self, review: authentication_pb2.TokenReview
    ) -> authentication_pb2.TokenReview:
        self.token_reviews += 1
        if review.spec.token == "good":
            review.status.authenticated = True
            review.status.user.username = "alice"
            review.status.user.groups.append("devs")
        return review

    async def create_subject_access_review(
        self, review: authorization_pb2.SubjectAccessReview
    ) -> authorization_pb2.SubjectAccessReview:
        self.access_reviews.append(review)
        review.status.allowed = self.allowed
        return review


async def test_tokens_and_decisions_are_reviewed_then_cached() -> None:
    now = [0.0]
    reviews = FakeReviews()
    auth = WebhookAuth(reviews, "node-1", clock=lambda: now[0])
    user = await auth.authenticate(None, "Bearer good")
    assert user == User("alice", ("devs", "system:authenticated"))
    assert await auth.authenticate(None, "Bearer bad") is None
    assert await auth.authenticate(None, "Bearer good") == user
    assert reviews.token_reviews == 2
    assert await auth.authenticate(None, "") is None

    assert user is not None
    assert await auth.authorize(user, "get", "stats")
    attributes = reviews.access_reviews[0].spec.resource_attributes
    assert (attributes.verb, attributes.resource, attributes.subresource, attributes.name) == (
        "get",
        "nodes",
        "stats",
        "node-1",
    )
    reviews.allowed = False
    now[0] = 299.0
    assert await auth.authorize(user, "get", "stats")  # still the cached allow
    now[0] = 301.0
    assert not await auth.authorize(user, "get", "stats")
    reviews.allowed = True
    now[0] = 330.0
    assert not await auth.authorize(user, "get", "stats")  # a denial is kept 30 s
    now[0] = 332.0
    assert await auth.authorize(user, "get", "stats")
