"""What several benchmarks share: the etcd and apiserver processes they start, measurement windows
and the CPU used in them, latency statistics, load-generating worker processes, the pods they
write, the raw etcd ceiling, progress lines, result files, the host-speed probe and profiling."""
