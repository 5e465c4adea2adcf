"""What the benchmarks ask of this machine: a free local port and its load average."""

from __future__ import annotations

import socket


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now (servers in benchmarks listen on 127.0.0.1 only)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def load_average() -> str:
    """The 1, 5 and 15 minute load averages, as ``uptime`` shows them: every result states them."""
    try:
        with open("/proc/loadavg") as handle:
            return " ".join(handle.read().split()[:3])
    except OSError:
        return "n/a"
