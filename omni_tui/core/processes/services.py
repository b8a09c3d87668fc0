"""Services and ports: which TCP ports a process listens on, whether each accepts, and known service names."""

from __future__ import annotations

import os
import time
from pathlib import Path

from omni_tui.core.processes.model import PortCheck

# Executable names (as the kernel reports them) of the services devenv's `services.*` start.
SERVICE_NAMES: dict[str, str] = {
    "postgres": "postgres",
    "postmaster": "postgres",
    "redis-server": "redis",
    "valkey-server": "valkey",
    "keydb-server": "keydb",
    "mysqld": "mysql",
    "mariadbd": "mysql",
    "mongod": "mongodb",
    "memcached": "memcached",
    "beam.smp": "rabbitmq",
    "nginx": "nginx",
    "caddy": "caddy",
    "minio": "minio",
    "clickhouse-serv": "clickhouse",
    "clickhouse": "clickhouse",
    "meilisearch": "meilisearch",
    "typesense-serve": "typesense",
    "influxd": "influxdb",
    "etcd": "etcd",
    "vault": "vault",
    "consul": "consul",
    "nats-server": "nats",
    "mailpit": "mailpit",
    "temporal": "temporal",
    "cockroach": "cockroachdb",
    "httpd": "apache",
    "php-fpm": "php-fpm",
    "varnishd": "varnish",
    "dynamodb-local": "dynamodb",
    "opensearch": "opensearch",
}

_PROC_NET = Path("/proc/net")
_LISTEN = "0A"


# sock_diag over netlink (linux/inet_diag.h): the kernel filters listening sockets itself, where
# reading /proc/net/tcp walks every TCP hash bucket (3 ms per file on the build machine, 0.03 ms here).
_NETLINK_SOCK_DIAG = 4
_SOCK_DIAG_BY_FAMILY = 20
_NLM_F_REQUEST_DUMP = 0x1 | 0x300
_NLMSG_ERROR, _NLMSG_DONE = 2, 3
_TCP_LISTEN = 10
_netlink_works = True  # until the kernel refuses (or has no AF_NETLINK): /proc from then on

# `socket` is imported by the calls that read or connect: `status` imports this module with the scan
# and, with no project process running, never gets that far (≈ 3 ms; docs/performance.md).


def _netlink_listening(family: int) -> dict[int, tuple[str, int]]:
    """inode → (address, port) of the listening TCP sockets of one address family (OSError when refused)."""
    import socket
    import struct  # here too: only a refresh with project processes reads sockets

    request = struct.pack("=BBBBI48s", family, socket.IPPROTO_TCP, 0, 0, 1 << _TCP_LISTEN, b"")
    header = struct.pack("=IHHII", 16 + len(request), _SOCK_DIAG_BY_FAMILY, _NLM_F_REQUEST_DUMP, 1, 0)
    addr_len = 4 if family == socket.AF_INET else 16
    found: dict[int, tuple[str, int]] = {}
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, _NETLINK_SOCK_DIAG) as nl:
        nl.settimeout(2.0)
        nl.sendall(header + request)
        while True:
            data = nl.recv(1 << 17)
            if not data:
                raise OSError("sock_diag: the kernel closed the netlink socket")
            off = 0
            while off + 16 <= len(data):
                length, kind = struct.unpack_from("=IH", data, off)
                if kind == _NLMSG_DONE:
                    return found
                if kind == _NLMSG_ERROR or length < 16:
                    raise OSError("sock_diag: the kernel answered with an error")
                # inet_diag_msg after the 16-byte header: family, state, timer, retrans (4 bytes), the
                # socket id (sport, dport big-endian; src, dst 16 bytes each; interface; cookie: 48 bytes),
                # then expires, rqueue, wqueue, uid, inode (4 bytes each).
                msg = off + 16
                port = struct.unpack_from(">H", data, msg + 4)[0]
                address = socket.inet_ntop(family, data[msg + 8 : msg + 8 + addr_len])
                inode = struct.unpack_from("=I", data, msg + 68)[0]
                found[inode] = (address, port)
                off += (length + 3) & ~3


def listening_sockets() -> dict[int, tuple[str, int]] | None:
    """inode → (address, port) of every listening TCP socket (netlink, else /proc/net/tcp{,6}); None off Linux."""
    import socket
    import struct

    global _netlink_works
    if _netlink_works and hasattr(socket, "AF_NETLINK"):
        try:
            return {**_netlink_listening(socket.AF_INET), **_netlink_listening(socket.AF_INET6)}
        except (OSError, struct.error):
            _netlink_works = False  # e.g. a sandbox without NETLINK_SOCK_DIAG: /proc from now on
    if not (_PROC_NET / "tcp").exists():
        return None
    found: dict[int, tuple[str, int]] = {}
    for fname, v6 in (("tcp", False), ("tcp6", True)):
        try:
            text = (_PROC_NET / fname).read_text()
        except OSError:
            continue
        for row in text.splitlines()[1:]:
            f = row.split()
            if len(f) < 10 or f[3] != _LISTEN:
                continue
            addr_hex, _, port_hex = f[1].partition(":")
            found[int(f[9])] = (_decode_addr(addr_hex, v6), int(port_hex, 16))
    return found


def _decode_addr(h: str, v6: bool) -> str:
    import socket

    raw = bytes.fromhex(h)
    if not v6:
        return socket.inet_ntop(socket.AF_INET, raw[::-1])
    # /proc prints IPv6 as four host-order 32-bit words.
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
    return socket.inet_ntop(socket.AF_INET6, words)


def socket_inodes(pid: int) -> set[int]:
    """Inodes of the sockets process `pid` holds open (empty when its fds are not readable)."""
    inodes: set[int] = set()
    fd_dir = f"/proc/{pid}/fd"
    try:
        fds = os.listdir(fd_dir)
    except OSError:
        return inodes
    for fd in fds:
        try:
            target = os.readlink(f"{fd_dir}/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(int(target[8:-1]))
    return inodes


def listening_ports(pid: int, table: dict[int, tuple[str, int]] | None) -> list[tuple[str, int]]:
    """(address, port) pairs process `pid` listens on; uses `table` from `listening_sockets()` when given."""
    if table is not None:
        return [table[i] for i in socket_inodes(pid) if i in table]
    import psutil  # only where neither netlink nor /proc/net answers

    try:
        conns = psutil.Process(pid).net_connections(kind="inet")
    except (psutil.Error, OSError):
        return []
    return [(c.laddr.ip, c.laddr.port) for c in conns if c.status == psutil.CONN_LISTEN and c.laddr]


def probe_host(bound: str) -> str:
    """Where to connect to reach a socket bound to `bound` (wildcards → loopback)."""
    if bound in ("0.0.0.0", ""):
        return "127.0.0.1"
    if bound == "::":
        return "::1"
    return bound


def accepts(host: str, port: int, timeout_s: float = 0.3) -> bool:
    """True when a TCP connection to host:port is accepted within `timeout_s`."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.settimeout(timeout_s)
        try:
            s.connect((host, port))
        except OSError:
            return False
    return True


class PortProber:
    """Probes each (host, port) when first seen and then at most every `every_s` seconds.

    Probing is a real TCP connect; services like postgres log each one, so it is rate-limited.
    """

    def __init__(self, every_s: float = 15.0, timeout_s: float = 0.3) -> None:
        self.every_s = every_s
        self.timeout_s = timeout_s
        self._last: dict[tuple[str, int], tuple[float, bool]] = {}

    def check(self, bound: str, port: int, now: float | None = None) -> PortCheck:
        now = time.monotonic() if now is None else now
        host = probe_host(bound)
        key = (host, port)
        hit = self._last.get(key)
        if hit is None or now - hit[0] >= self.every_s or not hit[1]:
            hit = (now, accepts(host, port, self.timeout_s))
            self._last[key] = hit
        return PortCheck(port=port, accepting=hit[1], host=host)

    def forget_stale(self, now: float | None = None) -> None:
        """Drop results not refreshed for a while (ports that went away)."""
        now = time.monotonic() if now is None else now
        for key in [k for k, (at, _) in self._last.items() if now - at > 2 * self.every_s]:
            del self._last[key]
