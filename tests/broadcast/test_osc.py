"""Pure OSC encoding checked by python-osc's parser; packing within UDP limits; addresses;
the sender never raises or blocks on network trouble; the rate cap."""

import errno
import math
import socket
import struct

import numpy as np
import pytest
from pythonosc.osc_bundle import OscBundle
from pythonosc.osc_message import OscMessage

from arpose.broadcast.osc import (
    DEFAULT_MAX_DATAGRAM,
    UDP_MAX_PAYLOAD,
    RateLimiter,
    UdpSender,
    encode_bundle,
    encode_message,
    pack_bundles,
    parse_host_port,
    resolve,
)
from arpose.errors import ConfigError


def test_message_types_and_values_parse_back():
    arr = np.arange(6, dtype=np.float32).reshape(2, 3)
    raw = encode_message("/a/b", "root", 7, 1.5, True, arr, [np.nan, -2.25])
    assert len(raw) % 4 == 0
    m = OscMessage(raw)
    assert m.address == "/a/b"
    assert m.dgram.split(b"\x00")[0] == b"/a/b"
    tags = raw[8:].split(b"\x00")[0].decode()
    assert tags == ",sifi" + "f" * 6 + "ff"
    p = m.params
    assert p[:4] == ["root", 7, 1.5, 1]
    assert p[4:10] == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]  # C order: x0 y0 z0 x1 ...
    assert math.isnan(p[10]) and p[11] == -2.25


# The two example messages of the OSC 1.0 specification, byte for byte as printed there.
SPEC_FREQUENCY = bytes.fromhex(
    "2f6f7363 696c6c61 746f722f 342f6672 65717565 6e637900"  # "/oscillator/4/frequency"
    "2c660000"  # ",f"
    "43dc0000"  # 440.0
)
SPEC_FOO = bytes.fromhex(
    "2f666f6f 00000000"  # "/foo"
    "2c696973 66660000"  # ",iisff"
    "000003e8 ffffffff"  # 1000, -1
    "68656c6c 6f000000"  # "hello"
    "3f9df3b6 40b5b22d"  # 1.234, 5.678
)


def test_the_specifications_examples(osc_spec):
    assert encode_message("/oscillator/4/frequency", 440.0) == SPEC_FREQUENCY
    assert encode_message("/foo", 1000, -1, "hello", 1.234, 5.678) == SPEC_FOO
    # The reference encoder the other byte-for-byte tests build their expectations with.
    assert osc_spec.message("/oscillator/4/frequency", ",f", osc_spec.floats(440.0)) == SPEC_FREQUENCY
    assert (
        osc_spec.message(
            "/foo", ",iisff", osc_spec.ints(1000, -1), osc_spec.string("hello"), osc_spec.floats(1.234, 5.678)
        )
        == SPEC_FOO
    )
    assert osc_spec.decode(SPEC_FOO) == [("/foo", (1000, -1, "hello", pytest.approx(1.234), pytest.approx(5.678)))]


def test_bundle_bytes(osc_spec):
    a, b = encode_message("/a", 1), encode_message("/bb", "x", 0.5)
    want = (
        b"#bundle\x00"
        + b"\x00\x00\x00\x00\x00\x00\x00\x01"  # time tag "immediately"
        + b"\x00\x00\x00\x0c"
        + b"/a\x00\x00,i\x00\x00\x00\x00\x00\x01"
        + b"\x00\x00\x00\x10"
        + b"/bb\x00,sf\x00x\x00\x00\x00\x3f\x00\x00\x00"
    )
    assert encode_bundle([a, b]) == want == osc_spec.bundle(a, b)
    assert pack_bundles([a, b]) == [want]
    # Unix time 1.5 s: NTP seconds 2208988801 (era 1900), fraction one half.
    assert encode_bundle([a], 1.5)[8:16] == struct.pack(">II", 2208988801, 1 << 31)
    assert osc_spec.decode(want) == [("/a", (1,)), ("/bb", ("x", 0.5))]


def test_string_padding_is_exact():
    # "/abc" + NUL = 5 bytes -> padded to 8; ",s" + NUL -> 4; "xyz" + NUL = 4 exactly.
    assert encode_message("/abc", "xyz") == b"/abc\x00\x00\x00\x00,s\x00\x00xyz\x00"
    assert encode_message("/abcdefg") == b"/abcdefg\x00\x00\x00\x00,\x00\x00\x00"


def test_bad_message_arguments():
    with pytest.raises(ValueError, match="start with '/'"):
        encode_message("nope")
    with pytest.raises(ValueError, match="unsupported"):
        encode_message("/x", object())


def test_bundle_parses_with_immediate_timetag():
    msgs = [encode_message("/m", i) for i in range(3)]
    b = OscBundle(encode_bundle(msgs))
    assert [c.params for c in b] == [[0], [1], [2]]
    assert encode_bundle([])[8:16] == struct.pack(">II", 0, 1)  # OSC "immediately"


def test_pack_bundles_splits_in_order_within_limit():
    msgs = [encode_message("/VMC/Ext/Bone/Pos", f"Bone{i}", np.zeros(7)) for i in range(60)]
    head = [encode_message("/hdr", 1)]
    grams = pack_bundles(msgs, 400, head=head)
    assert len(grams) > 1 and all(len(g) <= 400 for g in grams)
    got = []
    for g in grams:
        contents = [c.params for c in OscBundle(g)]
        assert contents[0] == [1]  # the head opens every bundle
        got += [c[0] for c in contents[1:]]
    assert got == [f"Bone{i}" for i in range(60)]
    # Default budget is MTU-friendly; a single datagram when everything fits.
    assert DEFAULT_MAX_DATAGRAM <= 1472
    assert len(pack_bundles(msgs[:3])) == 1
    assert len(pack_bundles([], head=head)) == 1 and pack_bundles([]) == []


def test_pack_bundles_oversize_message():
    big = encode_message("/big", np.zeros(2000))  # ~10 kB: alone in its bundle, still one datagram
    grams = pack_bundles([encode_message("/a"), big, encode_message("/b")], 1400)
    assert len(grams) == 3 and len(grams[1]) > 1400
    with pytest.raises(ValueError, match="cannot fit"):
        pack_bundles([encode_message("/huge", np.zeros(UDP_MAX_PAYLOAD // 4))])


@pytest.mark.parametrize(
    "text, default, expected",
    [
        ("127.0.0.1:39539", None, ("127.0.0.1", 39539)),
        ("localhost", 39539, ("localhost", 39539)),
        ("host.example:9000", 1, ("host.example", 9000)),
        ("[::1]:9001", None, ("::1", 9001)),
        ("[::1]", 5, ("::1", 5)),
    ],
)
def test_parse_host_port_good(text, default, expected):
    assert parse_host_port(text, default) == expected


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("", "empty address"),
        ("127.0.0.1:", "missing port"),
        (":9000", "missing host"),
        ("127.0.0.1:abc", "not a number"),
        ("127.0.0.1:0", "out of range"),
        ("127.0.0.1:70000", "out of range"),
        ("::1:9000", "ambiguous"),
        ("[::1:9000", "malformed IPv6"),
        ("39539", "looks like a port without a host"),
    ],
)
def test_parse_host_port_bad(text, fragment):
    with pytest.raises(ConfigError, match=fragment):
        parse_host_port(text, None, "--osc")


def test_resolve_unresolvable_host_is_config_error():
    with pytest.raises(ConfigError, match="cannot resolve host 'no-such-host.invalid'"):
        resolve("no-such-host.invalid", 9000, "--vmc")
    fam, addr = resolve("127.0.0.1", 9000)
    assert fam == socket.AF_INET and addr == ("127.0.0.1", 9000)


class _FailingSocket:
    def __init__(self, exc):
        self.exc, self.calls = exc, 0

    def sendto(self, data, addr):
        self.calls += 1
        raise self.exc

    def close(self):
        pass


@pytest.mark.parametrize(
    "exc, name",
    [
        (BlockingIOError(errno.EAGAIN, "full"), "EAGAIN"),  # socket buffer full
        (ConnectionRefusedError(errno.ECONNREFUSED, "refused"), "ECONNREFUSED"),  # receiver down
        (OSError(errno.ENETUNREACH, "unreachable"), "ENETUNREACH"),  # network gone
    ],
)
def test_sender_counts_drops_and_never_raises(exc, name):
    s = UdpSender()
    fake = _FailingSocket(exc)
    s._socks[socket.AF_INET] = fake
    assert [s.send(b"x", socket.AF_INET, ("127.0.0.1", 9)) for _ in range(3)] == [False] * 3
    assert fake.calls == 3 and s.stats.dropped == 3 and s.stats.sent == 0 and s.stats.errors == {name: 3}


def test_sender_socket_is_non_blocking_and_sends(receiver):
    s = UdpSender()
    assert s.send(encode_message("/ping", 1), socket.AF_INET, ("127.0.0.1", receiver.port))
    assert s._socks[socket.AF_INET].gettimeout() == 0.0  # non-blocking
    assert receiver.wait_for(1) == [("/ping", (1,))]
    assert s.stats.sent == 1 and s.stats.bytes_sent == 16
    s.close()


def test_rate_limiter():
    r = RateLimiter(10.0)
    times = np.arange(0, 1.0, 1 / 30)  # 30 fps source, 10 Hz cap -> every third frame
    admitted = [t for t in times if r.allow(float(t))]
    assert len(admitted) == 10 and r.skipped == 20
    assert np.allclose(np.diff(admitted), 0.1)
    r30 = RateLimiter(30.0)  # a cap equal to the source rate never thins jittery frames
    jitter = np.arange(60) / 30 + np.tile([0.0, 0.004], 30)
    assert all(r30.allow(float(t)) for t in jitter)
    assert RateLimiter(None).allow() is True
    for bad in (0.0, -5.0, float("inf"), float("nan")):
        with pytest.raises(ConfigError, match="--osc-rate"):
            RateLimiter(bad)
