"""Loopback OSC receivers built on python-osc's own server (an independent parser), and a
reference OSC 1.0 encoder written from the specification for byte-for-byte tests."""

from __future__ import annotations

import socket
import struct
import threading
import time
from types import SimpleNamespace

import numpy as np
import pytest
from pythonosc.dispatcher import Dispatcher
from pythonosc.osc_bundle import OscBundle
from pythonosc.osc_packet import OscPacket
from pythonosc.osc_server import ThreadingOSCUDPServer
from pythonosc.parsing.osc_types import IMMEDIATELY
from scipy.spatial.transform import Rotation as R

from arpose.skeleton import BONE_NAMES, PARENTS


class Receiver:
    """A python-osc UDP server on 127.0.0.1 recording ``(address, args)`` in arrival order."""

    def __init__(self, port: int = 0) -> None:
        self.messages: list[tuple[str, tuple]] = []
        self._lock = threading.Lock()
        d = Dispatcher()
        d.set_default_handler(self._record)
        self.server = ThreadingOSCUDPServer(("127.0.0.1", port), d)
        self.server.daemon_threads = True
        # python-osc reads on a Python thread; on a loaded 2-core CI box it can fall behind a
        # file run that sends as fast as it analyses, and the kernel would drop datagrams once
        # the default ~200 kB buffer is full. A real engine reads at the camera's rate.
        self.server.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def _record(self, address, *args):
        with self._lock:
            self.messages.append((address, args))

    def wait_for(self, n: int, timeout: float = 10.0) -> list[tuple[str, tuple]]:
        """The messages once at least ``n`` arrived (or whatever arrived by ``timeout``), then a
        short settle so nothing extra is still in flight."""
        end = time.monotonic() + timeout
        while time.monotonic() < end and len(self.messages) < n:
            time.sleep(0.01)
        time.sleep(0.1)
        with self._lock:
            return list(self.messages)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def receiver_pair():
    """Two receivers on consecutive ports (VMC person N goes to port + N)."""
    for _ in range(50):
        a = Receiver()
        try:
            b = Receiver(a.port + 1)
        except OSError:
            a.close()
            continue
        yield a, b
        a.close()
        b.close()
        return
    pytest.skip("no two consecutive free UDP ports on loopback")


@pytest.fixture
def free_port() -> int:
    """A loopback UDP port nobody listens on (bound then released)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def frames_of(messages):
    """Split received messages into frames (each ends with /VMC/Ext/T)."""
    out, cur = [], []
    for m in messages:
        cur.append(m)
        if m[0] == "/VMC/Ext/T":
            out.append(cur)
            cur = []
    assert not cur, "trailing messages without /VMC/Ext/T"
    return out


def unity_fk(frame):
    """Global Unity positions ``{bone: (3,)}`` and rotations ``{bone: Rotation}`` computed from
    the received Root/Pos and local Bone/Pos messages (Unity maths: p = parent_p + parent_r * local_p)."""
    root = next(a for ad, a in frame if ad == "/VMC/Ext/Root/Pos")
    local = {a[0]: (np.array(a[1:4]), R.from_quat(a[4:8])) for ad, a in frame if ad == "/VMC/Ext/Bone/Pos"}
    gp, gr = {}, {}
    for i, name in enumerate(BONE_NAMES):
        lp, lr = local[name]
        if PARENTS[i] < 0:
            pp, pr = np.array(root[1:4]), R.from_quat(root[4:8])
        else:
            parent = BONE_NAMES[PARENTS[i]]
            pp, pr = gp[parent], gr[parent]
        gp[name] = pp + pr.apply(lp)
        gr[name] = pr * lr
    return gp, gr


@pytest.fixture
def vmc_tools():
    """Helpers reading received VMC messages: ``frames_of`` and ``unity_fk``."""
    return SimpleNamespace(frames_of=frames_of, unity_fk=unity_fk)


# Reference OSC 1.0 encoding, written from the specification (not from arpose's encoder), to
# build expected datagrams by hand. Its own known answers are the specification's examples
# (tests/broadcast/test_osc.py).

#: The time tag "immediately": NTP seconds 0, fraction 1.
IMMEDIATELY_TAG = b"\x00\x00\x00\x00\x00\x00\x00\x01"


def osc_string(text: str) -> bytes:
    """OSC-string: ASCII, then 1 to 4 NULs so the length is a multiple of 4."""
    raw = text.encode("ascii")
    return raw + b"\x00" * (4 - len(raw) % 4)


def osc_ints(*values: int) -> bytes:
    """Big-endian two's complement int32s."""
    return struct.pack(f">{len(values)}i", *values)


def osc_floats(*values: float) -> bytes:
    """Big-endian IEEE 754 float32s."""
    return struct.pack(f">{len(values)}f", *map(float, values))


def osc_message(address: str, tags: str, *arguments: bytes) -> bytes:
    """Address pattern, type tag string (``tags`` starts with ``,``), then the argument bytes."""
    return osc_string(address) + osc_string(tags) + b"".join(arguments)


def osc_bundle(*elements: bytes, timetag: bytes = IMMEDIATELY_TAG) -> bytes:
    """``#bundle``, the 8-byte time tag, then each element as an int32 size and its bytes."""
    return b"#bundle\x00" + timetag + b"".join(struct.pack(">i", len(e)) + e for e in elements)


def decode(datagram: bytes) -> list[tuple[str, tuple]]:
    """``(address, args)`` of every message in a datagram, by python-osc's parser; a bundle's
    time tag must be "immediately"."""
    if OscBundle.dgram_is_bundle(datagram):
        assert OscBundle(datagram).timestamp == IMMEDIATELY
    return [(m.message.address, tuple(m.message.params)) for m in OscPacket(datagram).messages]


@pytest.fixture
def osc_spec():
    """The reference encoder (``string``, ``ints``, ``floats``, ``message``, ``bundle``,
    ``IMMEDIATELY_TAG``) and python-osc's ``decode``."""
    return SimpleNamespace(
        string=osc_string,
        ints=osc_ints,
        floats=osc_floats,
        message=osc_message,
        bundle=osc_bundle,
        IMMEDIATELY_TAG=IMMEDIATELY_TAG,
        decode=decode,
    )
