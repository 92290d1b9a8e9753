"""podplane-bench idle's readings (bench/common/cpu.py), on a /proc and a cgroup tree made
in a temporary folder: a process's CPU and name, the containers it runs in, a container's
cgroup total under cgroup v1 and v2, and a window's split over the processes alive at its end."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.cluster_idle.benchmark import report
from bench.common import cpu, host_speed

NODE = "a" * 64
POD = "b" * 64
TICK = cpu.CLOCK_TICKS


def stat_line(
    pid: int, comm: str, utime: int, stime: int, start: int, children: tuple[int, int] = (0, 0)
) -> str:
    # Fields 3-13, then utime (14), stime (15), cutime, cstime, priority, nice, threads,
    # itrealvalue, starttime (22) and the rest.
    head = ["S", "1", "1", "1", "0", "-1", "4194560", "100", "0", "0", "0"]
    tail = [str(children[0]), str(children[1]), "20", "0", "1", "0", str(start), "1000", "200"]
    return f"{pid} ({comm}) " + " ".join([*head, str(utime), str(stime), *tail]) + "\n"


def make_process(
    proc: Path, pid: int, argv: list[str], cgroup: str, cpu_ticks: int, start: int = 100
) -> None:
    d = proc / str(pid)
    d.mkdir(parents=True)
    comm = Path(argv[0]).name[:15]
    (d / "stat").write_text(stat_line(pid, comm, cpu_ticks, 0, start))
    (d / "cmdline").write_bytes("\0".join(argv).encode() + b"\0")
    (d / "cgroup").write_text(cgroup)


def test_a_stat_line_with_spaces_and_parentheses_in_its_name_is_read() -> None:
    line = stat_line(7, "odd (name) x", 3 * TICK, TICK, 4242, children=(TICK, 2 * TICK))
    assert cpu.parse_stat(line) == ("odd (name) x", 4.0, 4242, 3.0)


@pytest.mark.parametrize(
    "argv, name",
    [
        (["/usr/local/bin/python3.11", "-m", "kubelet", "--node-name", "node-1"], "kubelet"),
        (
            ["python", "-u", "-m", "podplane.componentbase.healthcheck", "x:1"],
            "podplane.componentbase.healthcheck",
        ),
        (["/usr/bin/containerd-shim-runc-v2", "-namespace", "moby"], "containerd-shim-runc-v2"),
        (["python", "script.py"], "python"),
        ([], "kworker/0:1"),
    ],
)
def test_a_process_is_named_by_its_module_or_program(argv: list[str], name: str) -> None:
    assert cpu.name_of("kworker/0:1", argv) == name


def test_the_containers_of_a_process_outermost_first() -> None:
    v1 = f"12:cpu,cpuacct:/docker/{NODE}/docker/{POD}\n11:memory:/docker/{NODE}/docker/{POD}\n"
    assert cpu.container_ids(v1) == (NODE, POD)
    assert cpu.container_ids(f"0::/system.slice/docker-{NODE}.scope\n") == (NODE,)
    assert cpu.container_ids("0::/user.slice\n") == ()


def test_a_containers_cgroup_total_under_v1_and_v2(tmp_path: Path) -> None:
    proc, root = tmp_path / "proc", tmp_path / "cgroup"
    make_process(proc, 10, ["dockerd"], f"4:cpu,cpuacct:/docker/{NODE}\n", 1)
    (root / "cpu,cpuacct" / "docker" / NODE).mkdir(parents=True)
    (root / "cpu,cpuacct" / "docker" / NODE / "cpuacct.usage").write_text("2500000000\n")
    assert cpu.cgroup_seconds(10, proc, root) == 2.5

    make_process(proc, 11, ["dockerd"], f"0::/docker/{POD}\n", 1)
    (root / "docker" / POD).mkdir(parents=True)
    (root / "docker" / POD / "cpu.stat").write_text("usage_usec 1500000\nuser_usec 1000000\n")
    assert cpu.cgroup_seconds(11, proc, root) == 1.5

    make_process(proc, 12, ["init"], "0::/nowhere\n", 1)
    with pytest.raises(FileNotFoundError):
        cpu.cgroup_seconds(12, proc, root)


def test_a_window_is_split_over_the_processes_alive_at_its_end(tmp_path: Path) -> None:
    node = f"4:cpu,cpuacct:/docker/{NODE}\n"
    before, after = tmp_path / "before", tmp_path / "after"
    make_process(before, 1, ["/usr/bin/dockerd"], node, 10 * TICK)
    make_process(before, 2, ["python", "-m", "kubelet"], node, 20 * TICK)
    make_process(before, 3, ["python", "-m", "podplane.componentbase.healthcheck"], node, 0)
    make_process(before, 4, ["/usr/sbin/init"], "0::/\n", 0)  # not in a container
    make_process(after, 1, ["/usr/bin/dockerd"], node, 13 * TICK)
    make_process(after, 2, ["python", "-m", "kubelet"], node, 26 * TICK)
    # pid 3 ended; pid 5 started in the window, in a pod's container inside the node.
    pod = f"4:cpu,cpuacct:/docker/{NODE}/docker/{POD}\n"
    make_process(after, 5, ["sleep", "3600"], pod, 1 * TICK)
    usage = cpu.usage_by_container(
        cpu.processes(before), cpu.processes(after), {NODE: 15.0}, seconds=10.0
    )
    assert set(usage) == {NODE}
    node_usage = usage[NODE]
    assert node_usage.total == 1.5
    assert node_usage.by_process == pytest.approx(
        {"kubelet": 0.6, "dockerd": 0.3, "pod: sleep": 0.1}
    )
    assert node_usage.short_lived == pytest.approx(0.5)


def test_a_reused_pid_is_another_process(tmp_path: Path) -> None:
    node = f"0::/docker/{NODE}\n"
    before, after = tmp_path / "before", tmp_path / "after"
    make_process(before, 9, ["python", "-m", "scheduler"], node, 50 * TICK, start=100)
    make_process(after, 9, ["python", "-m", "scheduler"], node, 2 * TICK, start=900)
    usage = cpu.usage_by_container(cpu.processes(before), cpu.processes(after), {NODE: 2.0}, 4.0)
    assert usage[NODE].by_process == {"scheduler": 0.5}


def test_the_report_lists_the_busiest_first() -> None:
    result = {
        "services": {
            "etcd": {"cores": 0.02, "short_lived_cores": 0.0, "processes": {"etcd": 0.02}},
            "node-1": {
                "cores": 0.1,
                "short_lived_cores": 0.04,
                "processes": {"kubelet": 0.03, "dockerd": 0.02, "containerd": 0.01},
            },
        },
        "containers_cores": 0.12,
        "engine_cores": 0.03,
        "engine": {"dockerd": 0.02, "containerd": 0.01},
        "host_busy_cores": 0.2,
        "not_the_clusters_cores": 0.04,
        "not_the_clusters": {"process_api": 0.03, "bench": 0.01},
        "cluster_host_wide_cores": 0.16,
    }
    lines = report(result).splitlines()
    assert lines[2] == "| node-1 | 10.0 | kubelet 3.0, dockerd 2.0, containerd 1.0 | 4.0 |"
    assert lines[3] == "| etcd | 2.0 | etcd 2.0 | 0.0 |"
    assert lines[-5:] == [
        "| all containers | 12.0 |  | |",
        "| the container engine | 3.0 | dockerd 2.0, containerd 1.0 | |",
        "| the host, busy | 20.0 |  | |",
        "| not the cluster's | 4.0 | process_api 3.0, bench 1.0 | |",
        "| **the cluster, host-wide** | 16.0 |  | |",
    ]


def test_the_report_ends_with_the_hosts_speed_around_the_window() -> None:
    result = {
        "services": {},
        "containers_cores": 0.0,
        "engine_cores": 0.0,
        "engine": {},
        "host_busy_cores": 0.0,
        "not_the_clusters_cores": 0.0,
        "not_the_clusters": {},
        "cluster_host_wide_cores": 0.0,
        "host_speed": host_speed.summary([12.0, 13.5, 23.0]),
    }
    assert report(result).splitlines()[-1] == (
        "the host's speed around the window: a 300,000-iteration Python loop, CPU milliseconds, "
        "median 13.5 (12.0-23.0) over 3 probes (higher is slower)"
    )


def test_the_hosts_busy_time_leaves_out_idle_iowait_and_steal(tmp_path: Path) -> None:
    # user nice system idle iowait irq softirq steal guest guest_nice
    ticks = [50, 10, 30, 900, 40, 5, 5, 70, 20, 0]
    (tmp_path / "stat").write_text("cpu  " + " ".join(map(str, ticks)) + "\ncpu0 1 2 3\n")
    no_cgroups = tmp_path / "cgroup-none"
    times = cpu.host_times(tmp_path, no_cgroups)
    assert times.busy == pytest.approx(100 / TICK)
    assert times.steal == pytest.approx(70 / TICK)
    assert cpu.host_busy_seconds(tmp_path, no_cgroups) == times.busy


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("cpu.stat", "usage_usec 2500000\nuser_usec 2000000\n"),
        ("cpuacct/cpuacct.usage", "2500000000\n"),
    ],
)
def test_the_tasks_time_is_the_root_cgroups_to_the_nanosecond(
    tmp_path: Path, path: str, text: str
) -> None:
    """Ticks charge a whole tick to whoever runs when it comes; the root cgroup counts what ran.
    Interrupts are no task's: /proc/stat's irq and softirq are added."""
    ticks = [50, 10, 30, 900, 40, 5, 5, 70]
    (tmp_path / "stat").write_text("cpu  " + " ".join(map(str, ticks)) + "\n")
    root = tmp_path / "cgroup"
    (root / path).parent.mkdir(parents=True, exist_ok=True)
    (root / path).write_text(text)
    assert cpu.root_cgroup_seconds(root) == pytest.approx(2.5)
    assert cpu.host_times(tmp_path, root).busy == pytest.approx(2.5 + 10 / TICK)


def test_what_the_host_spent_outside_the_containers_by_name(tmp_path: Path) -> None:
    node = f"0::/docker/{NODE}\n"
    host = "0::/system.slice/x.service\n"
    before, after = tmp_path / "before", tmp_path / "after"
    make_process(before, 1, ["/usr/bin/dockerd"], host, 10 * TICK)
    make_process(before, 2, ["/usr/bin/containerd-shim-runc-v2"], host, TICK)
    make_process(before, 3, ["python", "-m", "kubelet"], node, 20 * TICK)
    make_process(before, 4, ["/opt/agent/process_api"], host, 5 * TICK)
    make_process(after, 1, ["/usr/bin/dockerd"], host, 12 * TICK)
    # The shim's exec'd runtime ended and was reaped: its children's time.
    make_process(after, 2, ["/usr/bin/containerd-shim-runc-v2"], host, TICK)
    (after / "2" / "stat").write_text(stat_line(2, "containerd-shim", TICK, 0, 100, (TICK, 0)))
    make_process(after, 3, ["python", "-m", "kubelet"], node, 29 * TICK)
    make_process(after, 4, ["/opt/agent/process_api"], host, 8 * TICK)
    make_process(after, 6, ["python", "-m", "bench", "idle"], host, TICK)  # started within
    outside = cpu.usage_outside_containers(cpu.processes(before), cpu.processes(after), 10.0)
    assert outside == pytest.approx(
        {"process_api": 0.3, "dockerd": 0.2, "containerd-shim-runc-v2": 0.1, "bench": 0.1}
    )
    assert next(iter(outside)) == "process_api"
    assert {"dockerd", "containerd-shim-runc-v2"} <= cpu.ENGINE
