"""Ports for the servers a test starts itself: free now, outside the kernel's ephemeral range,
and never handed out twice in one test process.

A port found by binding port 0 comes from the ephemeral range, the same range every outgoing
connection's local port comes from: between the choice and the server's bind, one of the many
connections of the tests running beside it (or the Temporal dev server's own internal services,
which bind port 0) can take it, and the server fails with "address already in use". Seen for a
part's metrics port, a worker's Prometheus exporter and a dev server's frontend.
"""

from __future__ import annotations

import os
import random
import socket
from pathlib import Path

_PICK = random.SystemRandom()
# Every port handed out in this process: two parts of one csd dev (or two tests) must never be
# given the same one, and a free port stays free until its server binds it.
_GIVEN: set[int] = set()
_LOWEST = 20000


def _ephemeral_ports() -> range:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
    except (OSError, ValueError):
        low, high = "32768", "60999"
    return range(int(low), int(high) + 1)


def _own_ports() -> range:
    """This test process's share of the ports below the ephemeral range: each xdist worker
    draws from its own slice, so two tests running at once never pick the same port."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    index = int(worker) if worker.isdigit() else 0
    width = (min(_ephemeral_ports().start, 32768) - _LOWEST) // max(count, 1)
    return range(_LOWEST + index * width, _LOWEST + (index + 1) * width)


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_ports(count: int) -> int:
    """The first of `count` consecutive ports, all free now (a part given a base port, such as
    `csd worker --processes`, listens on the base plus each child's index)."""
    own = _own_ports()
    while True:
        # Not the module's generator: Hypothesis seeds it alike for every test, which handed
        # each test (and each xdist worker) the same "random" ports.
        first = _PICK.randrange(own.start, own.stop - count + 1)
        ports = range(first, first + count)
        if any(port in _GIVEN for port in ports) or not all(map(_bindable, ports)):
            continue
        _GIVEN.update(ports)
        return first


def free_port() -> int:
    """A port free now, for one server of the test's own."""
    return free_ports(1)
