"""Container probes (pkg/kubelet/prober): a worker per (pod, container, probe type) runs the
liveness, readiness and startup probes and keeps their latest results by container id."""

from kubelet.prober.manager import ProbeManager
from kubelet.prober.results import ProbeType, Result

__all__ = ["ProbeManager", "ProbeType", "Result"]
