"""The raw OSC stream over loopback: every documented address with its types and values."""

import math

import numpy as np
import pytest
from pythonosc.osc_bundle import OscBundle
from scipy.spatial.transform import Rotation as R

from arpose.broadcast.raw import RawOscSink, frame_datagrams
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


def test_every_address_type_and_value(receiver):
    people = [make_person(0, 1, angles={"right_knee": 170.5, "left_elbow": 92.25}), make_person(3, 2, with_body=True)]
    frames = [PoseFrame(Frame(IMG, 1.25, 37), tuple(people)), PoseFrame(Frame(IMG, 1.2833, 38), ())]
    sink = RawOscSink("127.0.0.1", receiver.port)
    for f in frames:
        sink.write(f, None)
    sink.close()
    got = receiver.wait_for(1 + 5 + 1 + 4 + 1 + NUM_BONES + 1 + 2)
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
    assert sink.sender.stats.dropped == 0


def test_split_datagrams_each_carry_the_frame_header():
    people = tuple(make_person(i, i, with_body=True) for i in range(3))
    grams = frame_datagrams(PoseFrame(Frame(IMG, 2.0, 5), people), max_datagram=1400)
    assert len(grams) > 3 and max(map(len, grams)) <= 1400
    contents = [[(m.address, m.params) for m in OscBundle(g)] for g in grams]
    assert all(c[0] == ("/arpose/frame", [5, 2.0, 3]) for c in contents)
    assert contents[-1][-1] == ("/arpose/frame/end", [5])
    ids = [p[1][0] for c in contents for p in c[1:] if p[0] == "/arpose/person"]
    assert ids == [0, 1, 2]
    assert all(not math.isnan(v) for c in contents for _, ps in c[:1] for v in ps)
