"""Kubernetes' matching rules for an Ingress's hosts and paths (the Ingress concepts page's
examples table), and the order a host's paths are tried in."""

from __future__ import annotations

import pytest

from ingress.matching import EXACT, PREFIX, host_matches, normal_path, path_matches, precedence


@pytest.mark.parametrize(
    ("path_type", "path", "asked", "matches"),
    [
        (PREFIX, "/", "/", True),
        (PREFIX, "/", "/anything/at/all", True),
        (EXACT, "/foo", "/foo", True),
        (EXACT, "/foo", "/bar", False),
        (EXACT, "/foo", "/foo/", False),
        (EXACT, "/foo/", "/foo", False),
        (PREFIX, "/foo", "/foo", True),
        (PREFIX, "/foo", "/foo/", True),
        (PREFIX, "/foo/", "/foo", True),
        (PREFIX, "/foo/", "/foo/", True),
        (PREFIX, "/aaa/bb", "/aaa/bbb", False),
        (PREFIX, "/aaa/bbb", "/aaa/bbb", True),
        (PREFIX, "/aaa/bbb/", "/aaa/bbb", True),
        (PREFIX, "/aaa/bbb", "/aaa/bbb/", True),
        (PREFIX, "/aaa/bbb", "/aaa/bbb/ccc", True),
        (PREFIX, "/aaa/bbb", "/aaa/bbbxyz", False),
        (PREFIX, "/foo", "/foobar", False),
        (PREFIX, "/foo", "/Foo", False),
    ],
)
def test_paths_as_the_ingress_documentation_tabulates(
    path_type: str, path: str, asked: str, matches: bool
) -> None:
    assert path_matches(normal_path(path, path_type), path_type, asked) is matches


@pytest.mark.parametrize(
    ("rule", "host", "matches"),
    [
        ("", "anything.example.com", True),
        ("foo.bar.com", "foo.bar.com", True),
        ("foo.bar.com", "FOO.bar.com", True),
        ("foo.bar.com", "bar.com", False),
        ("*.foo.com", "bar.foo.com", True),
        ("*.foo.com", "baz.bar.foo.com", False),
        ("*.foo.com", "foo.com", False),
        ("*.foo.com", ".foo.com", False),
    ],
)
def test_hosts_exact_and_one_label_wildcards(rule: str, host: str, matches: bool) -> None:
    assert host_matches(rule, host) is matches


def test_longest_path_first_then_exact_before_prefix() -> None:
    paths = [(PREFIX, "/"), (PREFIX, "/foo"), (EXACT, "/foo"), (PREFIX, "/foo/bar"), (EXACT, "/")]
    normal = [(normal_path(p, t), t) for t, p in paths]
    ordered = sorted(normal, key=lambda pt: precedence(*pt))
    assert ordered == [
        ("/foo/bar", PREFIX),
        ("/foo", EXACT),
        ("/foo", PREFIX),
        ("/", EXACT),
        ("", PREFIX),
    ]
