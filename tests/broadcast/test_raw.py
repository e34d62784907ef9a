"""The raw OSC stream: its messages and datagrams byte for byte (built by hand from the OSC 1.0
spec, then decoded by python-osc as a second check), every documented address with its types
and values, and the real network path over loopback (every datagram arrives unchanged)."""

import math

import numpy as np
import pytest
from scipy.spatial.transform import Rotation as R

from arpose.broadcast.raw import RawOscSink, frame_datagrams, frame_header, person_messages
from arpose.retarget.body import BodyPose
from arpose.skeleton import BONE_NAMES, NUM_BONES, REST_OFFSETS, forward_kinematics
from arpose.types import Frame, Person, PoseFrame

IMG = np.zeros((4, 4, 3), np.uint8)


def make_person(pid, seed, with_body=False, angles=None):
    rng = np.random.default_rng(seed)
    lm = rng.random((33, 5)).astype(np.float32)
    lm[3] = np.nan  # a missing landmark stays NaN on the wire
    world = rng.normal(scale=0.4, size=(33, 3)).astype(np.float32)
    b = None
    if with_body:
        q = R.from_rotvec(rng.normal(scale=0.5, size=(NUM_BONES, 3))).as_quat()
        root = np.array([0.1, 0.2, -2.5])
        pos, _ = forward_kinematics(q, root)
        b = BodyPose(q, root, pos, REST_OFFSETS.copy(), np.ones(NUM_BONES))
    return Person(pid, lm, world, 0.25 + 0.1 * pid, body=b, angles=angles)


def f32(a):
    return np.asarray(a, dtype=np.float32).astype(np.float64).ravel()


def check_floats(got, want):
    got, want = np.asarray(got, float), f32(want)
    assert got.shape == want.shape
    assert np.array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_array_equal(got[~np.isnan(got)], want[~np.isnan(want)])  # float32 exact


@pytest.fixture(autouse=True)
def _tools(osc_spec):
    global decode
    decode = osc_spec.decode


def test_frame_header_and_an_empty_frame_byte_for_byte():
    header = (
        b"/arpose/frame\x00\x00\x00"
        + b",ifi\x00\x00\x00\x00"
        + bytes.fromhex("00000026 3f000000 00000000")  # frame 38, 0.5 s, nobody
    )
    end = b"/arpose/frame/end\x00\x00\x00" + b",i\x00\x00" + bytes.fromhex("00000026")
    empty = PoseFrame(Frame(IMG, 0.5, 38), ())
    assert frame_header(empty) == header
    (datagram,) = frame_datagrams(empty)
    assert datagram == (
        b"#bundle\x00"
        + bytes.fromhex("00000000 00000001")  # time tag "immediately"
        + bytes.fromhex("00000024")  # 36 bytes
        + header
        + bytes.fromhex("0000001c")  # 28 bytes
        + end
    )
    assert decode(datagram) == [("/arpose/frame", (38, 0.5, 0)), ("/arpose/frame/end", (38,))]
    two = PoseFrame(Frame(IMG, -1.5, 7), (make_person(0, 1), make_person(1, 2)))
    assert frame_header(two) == header[:24] + bytes.fromhex("00000007 bfc00000 00000002")


def expected_person(S, p):
    """``person_messages(p)`` built by hand with the reference encoder ``S``."""
    lm = np.asarray(p.landmarks, np.float64)
    msgs = [
        S.message("/arpose/person", ",if", S.ints(p.id), S.floats(p.score)),
        S.message("/arpose/person/landmarks", ",i" + "f" * 99, S.ints(p.id), S.floats(*lm[:, :3].ravel())),
        S.message("/arpose/person/visibility", ",i" + "f" * 33, S.ints(p.id), S.floats(*lm[:, 3])),
        S.message("/arpose/person/world", ",i" + "f" * 99, S.ints(p.id), S.floats(*np.ravel(p.world))),
    ]
    if p.angles is not None:
        names = sorted(p.angles)
        pairs = b"".join(S.string(n) + S.floats(p.angles[n]) for n in names)
        msgs.append(S.message("/arpose/person/angles", ",i" + "sf" * len(names), S.ints(p.id), pairs))
    if p.body is not None:
        q = p.body.local_rotations
        msgs.append(
            S.message("/arpose/person/root", ",i" + "f" * 7, S.ints(p.id), S.floats(*p.body.root_position, *q[0]))
        )
        for name, qi in zip(BONE_NAMES, q):
            msgs.append(S.message("/arpose/person/bone", ",isffff", S.ints(p.id), S.string(name), S.floats(*qi)))
    return msgs


def same(got, want):
    """Equal, NaN included (NaN is unequal to itself, its repr is not)."""
    return repr(got) == repr(want)


def test_person_messages_byte_for_byte(osc_spec):
    p = make_person(3, 2, with_body=True, angles={"right_knee": 170.5, "left_elbow": 92.25})
    msgs = person_messages(p)
    assert msgs == expected_person(osc_spec, p)
    assert len(msgs) == 6 + NUM_BONES
    assert (
        msgs[0]
        == b"/arpose/person\x00\x00" + b",if\x00" + bytes.fromhex("00000003") + bytes.fromhex("3f0ccccd")  # score 0.55
    )
    assert msgs[4] == (
        b"/arpose/person/angles\x00\x00\x00"
        + b",isfsf\x00\x00"
        + bytes.fromhex("00000003")
        + b"left_elbow\x00\x00"
        + bytes.fromhex("42b88000")  # 92.25
        + b"right_knee\x00\x00"
        + bytes.fromhex("432a8000")  # 170.5
    )
    assert msgs[1][28 + 104 + 4 + 3 * 3 * 4 :][:12] == bytes.fromhex("7fc00000") * 3  # landmark 3 is NaN: sent as NaN
    decoded = [m for b in msgs for m in decode(b)]
    lm = p.landmarks.astype(np.float64)
    assert same(
        decoded[:4],
        [
            ("/arpose/person", (3, float(np.float32(p.score)))),
            ("/arpose/person/landmarks", (3, *lm[:, :3].ravel())),
            ("/arpose/person/visibility", (3, *lm[:, 3])),
            ("/arpose/person/world", (3, *p.world.astype(np.float64).ravel())),
        ],
    )
    assert decoded[4] == ("/arpose/person/angles", (3, "left_elbow", 92.25, "right_knee", 170.5))
    q32 = p.body.local_rotations.astype(np.float32).astype(np.float64)
    assert decoded[5][0] == "/arpose/person/root" and decoded[5][1][0] == 3
    np.testing.assert_array_equal(decoded[5][1][1:], np.r_[p.body.root_position.astype(np.float32), q32[0]])
    assert decoded[6:] == [("/arpose/person/bone", (3, name, *qi)) for name, qi in zip(BONE_NAMES, q32)]


def test_a_frame_of_one_person_is_one_datagram_byte_for_byte(osc_spec):
    S = osc_spec
    p = make_person(5, 4)
    f = PoseFrame(Frame(IMG, 2.5, 9), (p,))
    header = S.message("/arpose/frame", ",ifi", S.ints(9), S.floats(2.5), S.ints(1))
    end = S.message("/arpose/frame/end", ",i", S.ints(9))
    (datagram,) = frame_datagrams(f)
    assert datagram == S.bundle(header, *expected_person(S, p), end)
    assert len(datagram) == 1392  # 16 + (4 + 36) + (4 + 28) + (4 + 532) + (4 + 200) + (4 + 528) + (4 + 28)
    got = decode(datagram)
    assert [a for a, _ in got] == [
        "/arpose/frame",
        "/arpose/person",
        "/arpose/person/landmarks",
        "/arpose/person/visibility",
        "/arpose/person/world",
        "/arpose/frame/end",
    ]
    assert got[0] == ("/arpose/frame", (9, 2.5, 1)) and got[-1] == ("/arpose/frame/end", (9,))


def test_every_address_type_and_value():
    people = [make_person(0, 1, angles={"right_knee": 170.5, "left_elbow": 92.25}), make_person(3, 2, with_body=True)]
    frames = [PoseFrame(Frame(IMG, 1.25, 37), tuple(people)), PoseFrame(Frame(IMG, 1.2833, 38), ())]
    got = [m for f in frames for datagram in frame_datagrams(f) for m in decode(datagram)]
    # Datagram headers repeat /arpose/frame; collapse consecutive repeats to read the frame.
    msgs = [
        m for k, m in enumerate(got) if not (m[0] == "/arpose/frame" and k and got[k - 1][0] != "/arpose/frame/end")
    ]
    seq = iter(msgs)
    assert next(seq) == ("/arpose/frame", (37, pytest.approx(1.25), 2))
    for p in people:
        a, args = next(seq)
        assert a == "/arpose/person" and args[0] == p.id and type(args[1]) is float
        assert args[1] == pytest.approx(p.score, abs=1e-7)
        a, args = next(seq)
        assert a == "/arpose/person/landmarks" and args[0] == p.id and len(args) == 100
        check_floats(args[1:], p.landmarks[:, :3])
        a, args = next(seq)
        assert a == "/arpose/person/visibility" and args[0] == p.id
        check_floats(args[1:], p.landmarks[:, 3])
        a, args = next(seq)
        assert a == "/arpose/person/world" and args[0] == p.id
        check_floats(args[1:], p.world)
        if p.angles is not None:
            a, args = next(seq)
            assert a == "/arpose/person/angles" and args == (p.id, "left_elbow", 92.25, "right_knee", 170.5)
        if p.body is not None:
            a, args = next(seq)
            assert a == "/arpose/person/root" and args[0] == p.id and len(args) == 8
            check_floats(args[1:], np.r_[p.body.root_position, p.body.local_rotations[0]])
            for name, q in zip(BONE_NAMES, p.body.local_rotations):
                a, args = next(seq)
                assert a == "/arpose/person/bone" and args[:2] == (p.id, name)
                check_floats(args[2:], q)
    assert next(seq) == ("/arpose/frame/end", (37,))
    assert next(seq) == ("/arpose/frame", (38, pytest.approx(1.2833), 0))
    assert next(seq) == ("/arpose/frame/end", (38,))
    assert next(seq, None) is None


def test_split_datagrams_each_carry_the_frame_header():
    people = tuple(make_person(i, i, with_body=True) for i in range(3))
    grams = frame_datagrams(PoseFrame(Frame(IMG, 2.0, 5), people), max_datagram=1400)
    assert len(grams) > 3 and max(map(len, grams)) <= 1400
    contents = [decode(g) for g in grams]
    assert all(c[0] == ("/arpose/frame", (5, 2.0, 3)) for c in contents)
    assert contents[-1][-1] == ("/arpose/frame/end", (5,))
    ids = [p[1][0] for c in contents for p in c[1:] if p[0] == "/arpose/person"]
    assert ids == [0, 1, 2]
    assert all(not math.isnan(v) for c in contents for _, ps in c[:1] for v in ps)


def test_every_datagram_arrives_unchanged_over_udp(receiver):
    """The real network path: what a python-osc server receives is, message for message, what
    the sink's datagrams hold (their content is checked byte for byte above)."""
    frames = [
        PoseFrame(Frame(IMG, k / 30, k), tuple(make_person(i, 10 * k + i, with_body=i == 1) for i in range(2)))
        for k in range(3)
    ]
    sink = RawOscSink("127.0.0.1", receiver.port)
    sent, send = [], sink.sender.send
    sink.sender.send = lambda datagram, family, addr: sent.append(datagram) or send(datagram, family, addr)
    for f in frames:
        sink.write(f, None)
    sink.close()
    want = [m for datagram in sent for m in decode(datagram)]
    got = receiver.wait_for(len(want))
    assert same(got, want) and len(sent) > len(frames)
    stats = sink.sender.stats
    assert stats.sent == len(sent) and stats.dropped == 0 and stats.bytes_sent == sum(map(len, sent))
