"""Where a started server really listens: the TCP sockets in LISTEN state of a process and its descendants, read
from the OS (psutil), not from the command line that asked for an address."""

from __future__ import annotations

import psutil

LOCALHOST = "127.0.0.1"


def listening(pid: int) -> set[tuple[str, int]]:
    """(address, port) of every listening TCP socket (IPv4 and IPv6) held by process `pid` or its descendants."""
    root = psutil.Process(pid)
    found: set[tuple[str, int]] = set()
    for proc in (root, *root.children(recursive=True)):
        try:
            conns = proc.net_connections(kind="tcp")
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            continue
        found |= {(c.laddr.ip, c.laddr.port) for c in conns if c.status == psutil.CONN_LISTEN}
    return found


def not_local(sockets: set[tuple[str, int]]) -> set[tuple[str, int]]:
    """The sockets reachable from another machine: any address but 127.0.0.1 (0.0.0.0, ::, a LAN address)."""
    return {s for s in sockets if s[0] != LOCALHOST}
