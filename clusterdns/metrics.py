"""The server's Prometheus metrics, under CoreDNS's names so that its dashboards and alerts apply
(plugin/metrics/vars): requests by zone, protocol, family and type; responses by rcode; request
durations; request and response sizes; forwarded requests by upstream and rcode."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

# CoreDNS's buckets: 0.25 ms to about 8 s, doubling.
DURATION_BUCKETS = tuple(0.00025 * 2**i for i in range(16))
SIZE_BUCKETS = (0, 100, 200, 300, 400, 511, 1023, 2047, 4095, 8291, 16000, 32000, 48000, 64000)

REQUESTS = Counter(
    "coredns_dns_requests_total",
    "Counter of DNS requests made per zone, protocol and family.",
    ["server", "zone", "view", "proto", "family", "type"],
)
RESPONSES = Counter(
    "coredns_dns_responses_total",
    "Counter of response status codes.",
    ["server", "zone", "view", "rcode", "plugin"],
)
REQUEST_DURATION = Histogram(
    "coredns_dns_request_duration_seconds",
    "Histogram of the time (in seconds) each request took per zone.",
    ["server", "zone", "view", "type"],
    buckets=DURATION_BUCKETS,
)
REQUEST_SIZE = Histogram(
    "coredns_dns_request_size_bytes",
    "Size of the EDNS0 UDP buffer in bytes (64K for TCP) per zone and protocol.",
    ["server", "zone", "view", "proto"],
    buckets=SIZE_BUCKETS,
)
RESPONSE_SIZE = Histogram(
    "coredns_dns_response_size_bytes",
    "Size of the returned response in bytes.",
    ["server", "zone", "view", "proto"],
    buckets=SIZE_BUCKETS,
)
FORWARD_REQUESTS = Counter(
    "coredns_forward_requests_total",
    "Counter of requests made per upstream.",
    ["to"],
)
FORWARD_RESPONSES = Counter(
    "coredns_forward_responses_total",
    "Counter of responses received per upstream.",
    ["to", "rcode"],
)
FORWARD_FAILURES = Counter(
    "coredns_forward_failures_total",
    "Counter of requests to an upstream that got no answer in time.",
    ["to"],
)
BUILD_INFO = Gauge(
    "coredns_build_info",
    "A metric with a constant '1' value labeled by version, revision, and goversion from which "
    "CoreDNS was built.",
    ["version", "revision", "goversion"],
)
