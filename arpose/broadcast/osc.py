"""OSC 1.0 encoding (pure) and a non-blocking UDP sender (the only I/O).

Encoding follows the OSC 1.0 specification: strings are ASCII, NUL-terminated and padded to a
multiple of 4 bytes; ``i`` is a big-endian int32, ``f`` a big-endian IEEE float32 (NaN is
sent as NaN); a bundle is ``"#bundle\\0"``, an 8-byte NTP time tag, then each element as an
int32 size followed by its bytes. Building a message or bundle is a pure function that
returns bytes (python-osc's design); :class:`UdpSender` only sends them.

Datagram sizes: a frame's messages are packed into as few bundles as fit in
``max_datagram`` bytes (default :data:`DEFAULT_MAX_DATAGRAM` = 1400, below a 1500-byte
Ethernet MTU minus IP/UDP headers, so a datagram is never IP-fragmented and one lost
fragment never drops a whole frame). No datagram ever exceeds :data:`UDP_MAX_PAYLOAD`.
"""

from __future__ import annotations

import errno
import math
import socket
import struct
import time
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np

from ..errors import ConfigError

#: The largest UDP payload over IPv4 (65535 - 8 UDP - 20 IP header bytes).
UDP_MAX_PAYLOAD = 65507
#: Default datagram budget: fits a 1500-byte Ethernet MTU with IPv4/IPv6 and UDP headers.
DEFAULT_MAX_DATAGRAM = 1400
#: OSC time tag meaning "process immediately" (NTP seconds 0, fraction 1).
IMMEDIATELY = 1

_BUNDLE_HEADER = b"#bundle\x00"


def _pad_string(s: str) -> bytes:
    b = s.encode("ascii") + b"\x00"
    return b + b"\x00" * (-len(b) % 4)


def encode_message(address: str, *args) -> bytes:
    """One OSC message as bytes.

    address: OSC address starting with ``/`` (ASCII).
    args: ``str`` -> ``s``, ``int`` (not bool) -> ``i``, ``float`` / numpy float -> ``f``,
        ``bool`` -> ``i`` 0/1, and any numpy array / list / tuple of numbers -> one ``f`` per
        element, flattened in C order (so ``world`` ``(33, 3)`` becomes 99 floats
        x0 y0 z0 x1 ...).
    Raises ``ValueError`` for an address without a leading ``/`` or an unsupported argument.
    """
    if not address.startswith("/"):
        raise ValueError(f"OSC address must start with '/', got {address!r}")
    tags = [","]
    data = []
    for a in args:
        if isinstance(a, str):
            tags.append("s")
            data.append(_pad_string(a))
        elif isinstance(a, (bool, np.bool_)):
            tags.append("i")
            data.append(struct.pack(">i", int(a)))
        elif isinstance(a, (int, np.integer)):
            tags.append("i")
            data.append(struct.pack(">i", int(a)))
        elif isinstance(a, (float, np.floating)):
            tags.append("f")
            data.append(struct.pack(">f", float(a)))
        elif isinstance(a, (np.ndarray, list, tuple)):
            v = np.asarray(a, dtype=">f4").ravel()
            tags.append("f" * v.size)
            data.append(v.tobytes())
        else:
            raise ValueError(f"unsupported OSC argument {a!r} of type {type(a).__name__} for {address}")
    return _pad_string(address) + _pad_string("".join(tags)) + b"".join(data)


def encode_timetag(seconds: float | int) -> bytes:
    """An 8-byte NTP time tag. ``IMMEDIATELY`` (1) gives the special "now" tag; other values are
    Unix seconds (converted to the NTP era starting 1900)."""
    if seconds == IMMEDIATELY:
        return struct.pack(">II", 0, 1)
    ntp = float(seconds) + 2208988800.0
    whole = int(ntp)
    return struct.pack(">II", whole, int((ntp - whole) * 2**32) & 0xFFFFFFFF)


def encode_bundle(elements: Iterable[bytes], timetag: float | int = IMMEDIATELY) -> bytes:
    """A bundle of already-encoded messages (or bundles) as bytes."""
    out = [_BUNDLE_HEADER, encode_timetag(timetag)]
    for e in elements:
        out.append(struct.pack(">i", len(e)))
        out.append(e)
    return b"".join(out)


def pack_bundles(
    messages: Sequence[bytes],
    max_datagram: int = DEFAULT_MAX_DATAGRAM,
    head: Sequence[bytes] = (),
    timetag: float | int = IMMEDIATELY,
) -> list[bytes]:
    """Split ``messages`` (in order) into as few bundles as fit ``max_datagram`` bytes each.

    head: messages repeated at the start of *every* bundle (e.g. the raw stream's frame
        header, so each datagram says which frame it belongs to).
    A message that alone (with ``head``) exceeds ``max_datagram`` gets a bundle of its own;
    ``ValueError`` if that would exceed :data:`UDP_MAX_PAYLOAD`. Returns at least one
    bundle when ``messages`` or ``head`` is non-empty.
    """
    if not (16 + 4 <= max_datagram <= UDP_MAX_PAYLOAD):
        raise ValueError(f"max_datagram must be between 20 and {UDP_MAX_PAYLOAD}, got {max_datagram}")
    base = 16 + sum(4 + len(h) for h in head)
    bundles: list[bytes] = []
    current: list[bytes] = []
    size = base
    for m in messages:
        need = 4 + len(m)
        if base + need > UDP_MAX_PAYLOAD:
            raise ValueError(f"an OSC message of {len(m)} bytes cannot fit one UDP datagram")
        if current and size + need > max_datagram:
            bundles.append(encode_bundle([*head, *current], timetag))
            current, size = [], base
        current.append(m)
        size += need
    if current or (head and not bundles):
        bundles.append(encode_bundle([*head, *current], timetag))
    return bundles


def parse_host_port(text: str, default_port: int | None = None, option: str = "address") -> tuple[str, int]:
    """``"HOST:PORT"`` (or ``"HOST"`` when ``default_port`` is given; ``"[v6addr]:PORT"`` for
    IPv6) to ``(host, port)``. Raises :class:`ConfigError` saying what is wrong."""
    s = (text or "").strip()
    if not s:
        raise ConfigError(f"{option}: empty address; give HOST:PORT, e.g. 127.0.0.1:39539")
    if s.startswith("["):
        host, sep, rest = s[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else None
        if not sep or (rest and port_text is None):
            raise ConfigError(f"{option}: malformed IPv6 address {text!r}; use [ADDR]:PORT, e.g. [::1]:39539")
    elif s.count(":") == 1:
        host, port_text = s.split(":")
    elif s.count(":") == 0:
        host, port_text = s, None
    else:
        raise ConfigError(f"{option}: {text!r} is ambiguous; write IPv6 addresses as [ADDR]:PORT")
    if not host:
        raise ConfigError(f"{option}: missing host in {text!r}; give HOST:PORT, e.g. 127.0.0.1:39539")
    if host.isdigit():
        raise ConfigError(f"{option}: {text!r} looks like a port without a host; give HOST:PORT, e.g. 127.0.0.1:{host}")
    if port_text == "" or (port_text is None and default_port is None):
        raise ConfigError(f"{option}: missing port in {text!r}; give HOST:PORT, e.g. 127.0.0.1:9000")
    if port_text is None:
        return host, default_port
    try:
        port = int(port_text)
    except ValueError:
        raise ConfigError(f"{option}: port {port_text!r} in {text!r} is not a number; give HOST:PORT") from None
    if not (1 <= port <= 65535):
        raise ConfigError(f"{option}: port {port} in {text!r} is out of range; use 1-65535")
    return host, port


def resolve(host: str, port: int, option: str = "address") -> tuple[int, tuple]:
    """Resolve ``host`` once (at start-up) to ``(address family, sockaddr)`` for UDP.
    Raises :class:`ConfigError` if the name does not resolve."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
    except (socket.gaierror, UnicodeError, OSError) as exc:
        raise ConfigError(
            f"{option}: cannot resolve host {host!r} ({exc}); check the name or use an IP address"
        ) from None
    # Prefer IPv4 (most receivers listen on 0.0.0.0), else the first answer.
    infos.sort(key=lambda i: i[0] != socket.AF_INET)
    family, _, _, _, sockaddr = infos[0]
    return family, sockaddr


@dataclass
class SendStats:
    """Datagram counts of a sender. ``dropped`` counts datagrams not handed to the OS (full
    socket buffer, receiver down, network unreachable); ``errors`` counts by errno name."""

    sent: int = 0
    dropped: int = 0
    bytes_sent: int = 0
    errors: dict[str, int] = field(default_factory=dict)


class UdpSender:
    """Sends datagrams without ever blocking or raising on network trouble.

    The socket is non-blocking; a full buffer (``EAGAIN``), a receiver that is down
    (``ECONNREFUSED`` after an ICMP port-unreachable) or any other ``OSError`` on send drops
    that datagram and counts it in :attr:`stats`. Destinations are resolved once, by the
    caller, with :func:`resolve`.
    """

    def __init__(self) -> None:
        self._socks: dict[int, socket.socket] = {}
        self.stats = SendStats()

    def _sock(self, family: int) -> socket.socket:
        s = self._socks.get(family)
        if s is None:
            s = socket.socket(family, socket.SOCK_DGRAM)
            s.setblocking(False)
            self._socks[family] = s
        return s

    def send(self, datagram: bytes, family: int, sockaddr: tuple) -> bool:
        """Send one datagram; ``True`` if the OS took it, ``False`` if it was dropped."""
        try:
            self._sock(family).sendto(datagram, sockaddr)
        except OSError as exc:
            self.stats.dropped += 1
            name = errno.errorcode.get(exc.errno, type(exc).__name__) if exc.errno else type(exc).__name__
            self.stats.errors[name] = self.stats.errors.get(name, 0) + 1
            return False
        self.stats.sent += 1
        self.stats.bytes_sent += len(datagram)
        return True

    def close(self) -> None:
        for s in self._socks.values():
            s.close()
        self._socks.clear()


class RateLimiter:
    """Lets at most ``rate_hz`` frames per second through (``None`` = no cap).

    A token bucket of one frame: frames are admitted on a schedule of ``1 / rate_hz`` steps
    (a frame up to 10 % of a step early still counts as on time, so a 30 fps source under a
    30 Hz cap is never thinned by jitter); after a stall (more than half a step late) the
    schedule restarts from that frame, so a stalled source never earns a burst. ``now``
    defaults to ``time.monotonic()``; pass times to use it as a pure schedule.
    """

    def __init__(self, rate_hz: float | None = None) -> None:
        if rate_hz is not None and not (rate_hz > 0 and np.isfinite(rate_hz)):
            raise ConfigError(f"--osc-rate must be a positive number of frames per second, got {rate_hz}")
        self.rate_hz = rate_hz
        self._due = -math.inf
        self.skipped = 0

    def allow(self, now: float | None = None) -> bool:
        if self.rate_hz is None:
            return True
        now = time.monotonic() if now is None else now
        period = 1.0 / self.rate_hz
        if now < self._due - 0.1 * period:
            self.skipped += 1
            return False
        # Keep the schedule through jitter; re-anchor on the first frame or after a stall.
        slot = self._due if now - self._due < 0.5 * period else now
        self._due = slot + period
        return True
