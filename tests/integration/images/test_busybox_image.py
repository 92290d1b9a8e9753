"""The nodes' busybox image (docker/busybox-rootfs.sh, the stage `busybox-rootfs` of
docker/node.Dockerfile), run with `docker run` on the test host's engine: busybox 1.37.0 built with
busybox's defconfig as Docker Hub's busybox:latest is, whose applets do what tutorials type.
`wget -T N` returns the body or times out with busybox's message (Debian's 1.35 died of a
segmentation fault, exit 139), and nc, httpd, nslookup and the everyday applets answer. The
servers are on the host's loopback (local_servers.py) and the containers use the host's network,
or none."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

import pytest

from tests.integration.images.local_servers import (
    HTTP_BODY,
    dns_server,
    http_server,
    silent_listener,
    unreachable_port,
)
from tests.integration.kubelet_docker import DOCKER_HOST
from tests.integration.pod_images import BUSYBOX, ensure_pod_images
from tests.support import free_port

ENV = {**os.environ, "DOCKER_HOST": DOCKER_HOST}
# What the tutorials use, and applets of the defconfig that Debian's busybox packages leave out.
APPLETS = (
    "wget nslookup nc httpd ping hostname env sleep sh date timeout top ps mount df ip ifconfig "
    "route telnet traceroute vi tar gzip find grep sed awk nohup nice pgrep pkill printenv flock "
    "split ar inotifyd"
).split()


@pytest.fixture(scope="module", autouse=True)
def busybox_image() -> None:
    ensure_pod_images(DOCKER_HOST)


def docker(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker", *args], env=ENV, capture_output=True, text=True, timeout=timeout, check=False
    )


def busybox(*argv: str, network: str = "host") -> subprocess.CompletedProcess[str]:
    return docker("run", "--rm", "--network", network, BUSYBOX, *argv)


@pytest.fixture
def container() -> Iterator[list[str]]:
    """Names of detached containers to remove afterwards."""
    names: list[str] = []
    yield names
    for name in names:
        docker("rm", "-f", name)


def test_busybox_is_1_37_with_the_defconfig_applets() -> None:
    banner = busybox("busybox")
    assert banner.stdout.startswith(
        "BusyBox v1.37.0 (2024-09-26 21:31:42 UTC) multi-call binary.\n"
    ), banner
    listed = busybox("busybox", "--list").stdout.split()
    assert set(APPLETS) <= set(listed), set(APPLETS) - set(listed)
    assert len(listed) >= 400, len(listed)
    # Every applet is a link in /bin, as in the official image.
    where = busybox("sh", "-c", "which wget nslookup env; ls /usr/bin").stdout.split()
    assert where == ["/bin/wget", "/bin/nslookup", "/usr/bin/env", "env"], where


def test_wget_with_a_timeout_returns_the_body() -> None:
    with http_server() as server:
        got = busybox("wget", "-T", "2", "-qO-", f"http://127.0.0.1:{server.port}/index.html")
    assert (got.returncode, got.stdout, got.stderr) == (0, HTTP_BODY.decode(), "")
    assert [path for _, path, _ in server.requests] == ["/index.html"]


def test_wget_spider_shows_the_headers_and_sends_the_user_agent() -> None:
    with http_server() as server:
        got = busybox(
            "wget", "-S", "--spider", "-U", "tutorial/1.0", "-T", "2",
            f"http://127.0.0.1:{server.port}/healthz",
        )  # fmt: skip
    assert got.returncode == 0, got
    assert "  HTTP/1.0 200 OK" in got.stderr.splitlines(), got.stderr
    assert "remote file exists" in got.stderr, got.stderr
    assert got.stdout == ""
    assert [(path, agent) for _, path, agent in server.requests] == [("/healthz", "tutorial/1.0")]


@pytest.mark.parametrize("peer", [unreachable_port, silent_listener], ids=["connect", "no-answer"])
def test_wget_times_out_with_busybox_message(
    peer: Callable[[], AbstractContextManager[int]],
) -> None:
    with peer() as port:
        start = time.monotonic()
        got = busybox("wget", "-T", "1", "-qO-", f"http://127.0.0.1:{port}/")
        took = time.monotonic() - start
    # Not a segmentation fault (139), and not the kernel's connect timeout (minutes).
    assert (got.returncode, got.stderr, got.stdout) == (1, "wget: download timed out\n", "")
    assert took < 15, took


def test_nc_connects_scans_and_listens(container: list[str]) -> None:
    with http_server() as server:
        request = "GET /nc HTTP/1.0\r\n\r\n"
        got = busybox("sh", "-c", f"printf '{request}' | nc -w 2 127.0.0.1 {server.port}")
        assert got.returncode == 0 and got.stdout.endswith(HTTP_BODY.decode()), got
        open_port = busybox("nc", "-z", "-w", "2", "127.0.0.1", str(server.port))
    closed_port = busybox("nc", "-z", "-w", "2", "127.0.0.1", str(free_port()))
    assert (open_port.returncode, closed_port.returncode) == (0, 1), (open_port, closed_port)

    # nc -l -p PORT -e PROG: a server whose stdin and stdout are the connection (an echo here).
    port = free_port()
    name = f"nc-listen-{port}"
    container.append(name)
    started = docker(
        "run", "-d", "--name", name, "--network", "host", BUSYBOX,
        "nc", "-l", "-p", str(port), "-e", "cat",
    )  # fmt: skip
    assert started.returncode == 0, started
    deadline = time.monotonic() + 20
    while True:
        try:
            conn = socket.create_connection(("127.0.0.1", port), timeout=5)
            break
        except ConnectionRefusedError:
            assert time.monotonic() < deadline, "nc -l never listened"
            time.sleep(0.2)
    with conn:
        conn.sendall(b"echo me\n")
        assert conn.recv(100) == b"echo me\n"


def test_httpd_serves_what_wget_fetches() -> None:
    script = (
        "mkdir -p /www && echo served by httpd >/www/index.html; "
        "httpd -f -p 8080 -h /www & "
        "for i in $(seq 50); do wget -T 2 -qO- http://127.0.0.1:8080/ && exit; sleep 0.1; done; "
        "exit 1"
    )
    got = busybox("sh", "-c", script, network="none")
    assert (got.returncode, got.stdout) == (0, "served by httpd\n"), got


def test_static_busybox_resolves_names_from_hosts_and_dns() -> None:
    """The image holds no libc and no NSS module: wget, ping and nc still resolve names through
    /etc/hosts and through the resolv.conf's server (busybox's dnsd, inside the container)."""
    script = (
        "echo 'web.test 127.0.0.1' >/etc/dnsd.conf && dnsd -c /etc/dnsd.conf -i 127.0.0.1 -p 53 & "
        "echo 'nameserver 127.0.0.1' >/etc/resolv.conf && echo '127.0.0.1 hosts.test' >>/etc/hosts "
        "&& mkdir /www && echo page >/www/index.html && httpd -p 8080 -h /www && sleep 0.3 "
        "&& wget -T 2 -qO- http://web.test:8080/ && wget -T 2 -qO- http://hosts.test:8080/ "
        "&& ping -c 1 -W 2 web.test | head -n 1 && nc -z -w 2 hosts.test 8080 && echo nc-ok"
    )
    got = busybox("sh", "-c", script, network="none")
    assert got.stdout == "page\npage\nPING web.test (127.0.0.1): 56 data bytes\nnc-ok\n", got


def test_nslookup_asks_the_given_server() -> None:
    with dns_server({"web.example.test.": "10.1.2.3"}) as port:
        found = busybox("nslookup", f"-port={port}", "web.example.test", "127.0.0.1")
        missing = busybox("nslookup", f"-port={port}", "nope.example.test", "127.0.0.1")
    # The A answer, then the (empty) AAAA answer: busybox asks for both unless given -type.
    assert found.returncode == 0, found
    assert found.stdout == (
        f"Server:\t\t127.0.0.1\nAddress:\t127.0.0.1:{port}\n\n"
        "Name:\tweb.example.test\nAddress: 10.1.2.3\n\n\n"
    ), found.stdout
    assert missing.returncode == 1, missing
    assert "** server can't find nope.example.test: NXDOMAIN\n" in missing.stdout, missing.stdout


EVERYDAY = {  # applet: (script, what its output holds)
    "ping": ("ping -c 1 -W 2 127.0.0.1", "1 packets transmitted, 1 packets received"),
    "hostname": ("hostname", "busybox-test"),
    "env": ("env", "HOSTNAME=busybox-test"),
    "date": ("TZ=UTC date -d @0 +%F", "1970-01-01"),
    "timeout": ("timeout 1 sleep 10; echo exit=$?", "exit=143"),
    "ps": ("sleep 0.1 && ps", "PID   USER     TIME  COMMAND"),
    "top": ("top -b -n 1", "Load average:"),
    "mount": ("mount", "proc on /proc type proc"),
    "df": ("df /", "Mounted on"),
    "ip": ("ip addr show lo", "inet 127.0.0.1/8"),
    "ifconfig": ("ifconfig lo", "inet addr:127.0.0.1"),
    "route": ("route -n", "Kernel IP routing table"),
    "traceroute": ("traceroute -n -m 1 -q 1 127.0.0.1", " 1  127.0.0.1"),
    "telnet": ("telnet 127.0.0.1 1", "telnet: can't connect to remote host (127.0.0.1)"),
    "vi": ("echo abc >/f; vi -c ':s/a/X/' -c ':wq' /f </dev/null >/dev/null; cat /f", "Xbc"),
    "tar": ("mkdir /d && echo x >/d/f && tar -czf /d.tgz -C /d f && tar -tzf /d.tgz", "f"),
    "gzip": ("echo abc | gzip | gzip -d", "abc"),
    "find": ("find /etc -name passwd", "/etc/passwd"),
    "grep": ("printf 'a\\nb\\n' | grep -c b", "1"),
    "sed": ("echo hello | sed s/l/L/g", "heLLo"),
    "awk": ("echo 1 2 | awk '{print $1 + $2}'", "3"),
    "id": ("id nobody", "uid=65534(nobody) gid=65534(nogroup)"),
}


@pytest.mark.parametrize("applet", EVERYDAY)
def test_everyday_applets(applet: str) -> None:
    script, expected = EVERYDAY[applet]
    got = docker(
        "run", "--rm", "--hostname", "busybox-test", "--network", "none", BUSYBOX,
        "sh", "-c", script,
    )  # fmt: skip
    assert expected in got.stdout + got.stderr, got
