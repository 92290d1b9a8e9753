"""What a ResourceQuota counts (k8s.io/apiserver/pkg/quota/v1 and kubernetes pkg/quota/v1):
quantities and resource lists as Go adds and prints them (`quantities`), what each kind uses and
which quotas and scopes it matches (`pods`, `evaluators`), and a quota's usage from a
namespace's objects (`usage`). The ResourceQuota admission plugin and the resource quota
controller both count with it, so the two cannot disagree."""
