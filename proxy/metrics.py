"""kube-proxy's metrics, under kube-proxy's names (pkg/proxy/metrics): how long syncs take, when
the last one ran and when a change last asked for one, the rules written, restore failures and
the changes waiting for a sync."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

# exponential buckets from 1 ms, doubling, 15 of them (up to ~16 s), as kube-proxy's.
_SYNC_BUCKETS = tuple(0.001 * 2**i for i in range(15))

SYNC_PROXY_RULES_LATENCY = Histogram(
    "kubeproxy_sync_proxy_rules_duration_seconds",
    "SyncProxyRules latency in seconds",
    buckets=_SYNC_BUCKETS,
)
SYNC_FULL_PROXY_RULES_LATENCY = Histogram(
    "kubeproxy_sync_full_proxy_rules_duration_seconds",
    "SyncProxyRules latency in seconds for full resyncs",
    buckets=_SYNC_BUCKETS,
)
SYNC_PARTIAL_PROXY_RULES_LATENCY = Histogram(
    "kubeproxy_sync_partial_proxy_rules_duration_seconds",
    "SyncProxyRules latency in seconds for partial resyncs",
    buckets=_SYNC_BUCKETS,
)
SYNC_PROXY_RULES_LAST_TIMESTAMP = Gauge(
    "kubeproxy_sync_proxy_rules_last_timestamp_seconds",
    "The last time proxy rules were successfully synced",
)
SYNC_PROXY_RULES_LAST_QUEUED_TIMESTAMP = Gauge(
    "kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds",
    "The last time a sync of proxy rules was queued",
)
IPTABLES_RESTORE_FAILURES = Counter(
    "kubeproxy_sync_proxy_rules_iptables_restore_failures",
    "Cumulative proxy iptables restore failures",
)
IPTABLES_PARTIAL_RESTORE_FAILURES = Counter(
    "kubeproxy_sync_proxy_rules_iptables_partial_restore_failures",
    "Cumulative proxy iptables partial restore failures",
)
IPTABLES_RULES_TOTAL = Gauge(
    "kubeproxy_sync_proxy_rules_iptables_total",
    "Total number of iptables rules owned by kube-proxy",
    ["table"],
)
IPTABLES_RULES_LAST_SYNC = Gauge(
    "kubeproxy_sync_proxy_rules_iptables_last",
    "Number of iptables rules written by kube-proxy in last sync",
    ["table"],
)
SERVICE_CHANGES_PENDING = Gauge(
    "kubeproxy_sync_proxy_rules_service_changes_pending", "Pending proxy rules Service changes"
)
SERVICE_CHANGES_TOTAL = Counter(
    "kubeproxy_sync_proxy_rules_service_changes", "Cumulative proxy rules Service changes"
)
ENDPOINT_CHANGES_PENDING = Gauge(
    "kubeproxy_sync_proxy_rules_endpoint_changes_pending", "Pending proxy rules Endpoint changes"
)
ENDPOINT_CHANGES_TOTAL = Counter(
    "kubeproxy_sync_proxy_rules_endpoint_changes", "Cumulative proxy rules Endpoint changes"
)
NO_LOCAL_ENDPOINTS = Gauge(
    "kubeproxy_sync_proxy_rules_no_local_endpoints_total",
    "Number of services with a Local traffic policy and no endpoints",
    ["traffic_policy"],
)
