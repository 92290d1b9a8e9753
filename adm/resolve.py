"""python -m adm.resolve NAME --nameserver IP: asks a DNS server for NAME's A records until it
answers them, as a resolver retries a query that got no answer (each try waits half a second for
the answer, as dig's +timeout); for the last stage of `make up` (scripts/wait-cluster.sh), run on
a node, where the cluster DNS's Service IP is reachable. A module of its own, apart from `python
-m adm`: it imports dnspython alone, and starts in a fraction of the time."""

from __future__ import annotations

import argparse
import sys
import time

import dns.exception
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype


class NoAnswer(Exception):
    """No A record by the deadline; the message says what the last try got."""


def addresses(name: str, nameserver: str, timeout: float, port: int = 53) -> list[str]:
    """NAME's A records from one UDP query; raises dns.exception.Timeout or OSError when
    nothing answered, NoAnswer when the answer held none."""
    query = dns.message.make_query(name, dns.rdatatype.A)
    reply = dns.query.udp(query, nameserver, timeout, port=port)
    found = [
        item.address for rrset in reply.answer if rrset.rdtype == dns.rdatatype.A for item in rrset
    ]
    if not found:
        raise NoAnswer(f"{dns.rcode.to_text(reply.rcode())} with no A record")
    return found


def resolve(
    name: str, nameserver: str, timeout: float, try_timeout: float = 0.5, port: int = 53
) -> list[str]:
    """addresses(), tried again until it gives some, for at most `timeout` seconds. Given up,
    it says what the last answer was, or, when none came, the last failure."""
    deadline = time.monotonic() + timeout
    answered: Exception | None = None  # the last try that got an answer (or a refusal)
    while True:
        left = deadline - time.monotonic()
        try:
            return addresses(name, nameserver, min(try_timeout, max(left, 0.01)), port)
        except (dns.exception.Timeout, OSError, NoAnswer) as e:
            if not isinstance(e, dns.exception.Timeout):
                answered = e
            if time.monotonic() >= deadline:
                # A last try cut short by the deadline says less than the answer before it.
                said = answered or e
                raise NoAnswer(f"{name} from {nameserver}: {said or type(said).__name__}") from None
            if not isinstance(e, dns.exception.Timeout):
                # An answer without the name, or a refused port: the server or its Service is
                # still starting; a timeout has already waited its share.
                time.sleep(min(try_timeout / 5, max(deadline - time.monotonic(), 0)))


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m adm.resolve", description=__doc__)
    p.add_argument("name")
    p.add_argument("--nameserver", required=True, help="the DNS server's IP (port 53, UDP)")
    p.add_argument("--timeout", type=float, default=60, help="seconds in all")
    args = p.parse_args(argv)
    try:
        found = resolve(args.name, args.nameserver, args.timeout)
    except NoAnswer as e:
        print(f"resolve: no answer after {args.timeout:.0f} s: {e}", file=sys.stderr)
        return 1
    print(f"{args.name} is {', '.join(found)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
