"""The raw OSC stream's hands, fingers, face and expressions (issue 17): a hand message byte for
byte against the reference encoder; a frame of two people with body, hands and face split into
datagrams of at most 1400 bytes that python-osc decodes back to the same arrays (float32 exact,
NaN where nothing was seen, never 0); people without hands or face send what they sent before."""

import numpy as np
import pytest
from scipy.spatial.transform import Rotation as R

from arpose.broadcast.raw import (
    FACE_CHUNK,
    FACE_MESSAGES,
    RawOscSink,
    frame_datagrams,
    hands_face_messages,
    person_messages,
)
from arpose.landmarks import NUM_FACE_LANDMARKS, Side
from arpose.retarget.body import BodyPose
from arpose.retarget.face import Expression, FacePose
from arpose.retarget.fingers import HandsPose
from arpose.skeleton import NUM_BONES, REST_OFFSETS, forward_kinematics
from arpose.types import Frame, Person, PoseFrame

IMG = np.zeros((4, 4, 3), np.uint8)


@pytest.fixture(autouse=True)
def _tools(osc_spec):
    global decode
    decode = osc_spec.decode


def make_person(pid, seed, left_seen=True, face_seen=True):
    """A person with a body, joint angles, both hands (the left one seen or not), finger bones
    and a face (seen or not)."""
    rng = np.random.default_rng(seed)
    lm = rng.random((33, 5)).astype(np.float32)
    q = R.random(NUM_BONES, random_state=seed).as_quat()
    root = np.array([0.1, 0.2, -2.5])
    body = BodyPose(q, root, forward_kinematics(q, root)[0], REST_OFFSETS.copy(), np.ones(NUM_BONES))
    hands = rng.random((2, 21, 4)).astype(np.float32)
    hands[:, :, 3] = np.array([[0.8], [0.95]], np.float32)
    world = rng.normal(scale=0.05, size=(2, 21, 3)).astype(np.float32)
    fq = R.random(30, random_state=seed + 1).as_quat()
    seen = np.array([left_seen, True])
    if not left_seen:
        hands[Side.LEFT], world[Side.LEFT], fq[:15] = np.nan, np.nan, [0, 0, 0, 1]
    face = rng.random((478, 4)).astype(np.float32)
    face[:, 3] = 1.0
    fp = None
    if face_seen:
        fp = FacePose(
            np.array([0, 0, 0, 1.0]), R.random(2, random_state=seed + 2).as_quat(), 0.3, rng.random(11), None, True
        )
    else:
        face[:] = np.nan
    return Person(
        pid,
        lm,
        rng.normal(size=(33, 3)).astype(np.float32),
        0.9,
        body=body,
        angles={"left_elbow": 90.0, "right_knee": 170.0},
        hands=hands,
        hands_world=world,
        face=face,
        fingers=HandsPose(fq, seen, (None, None), np.full((2, 4), np.nan)),
        face_pose=fp,
    )


def f32(a):
    return np.asarray(a, dtype=np.float32).astype(np.float64).ravel()


def check_floats(got, want):
    """float32-exact equality with NaN in the same places."""
    got, want = np.asarray(got, float).ravel(), f32(want)
    assert got.shape == want.shape
    assert np.array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_array_equal(got[~np.isnan(got)], want[~np.isnan(want)])


def test_a_hand_message_byte_for_byte(osc_spec):
    S = osc_spec
    p = make_person(3, 1)
    msgs = hands_face_messages(p)
    right = p.hands[Side.RIGHT]
    want = S.message(
        "/arpose/person/hand",
        ",isf" + "f" * 63,
        S.ints(3),
        S.string("right"),
        S.floats(0.95),
        S.floats(*right[:, :3].ravel()),
    )
    assert msgs[2] == want
    assert msgs[0][:24] == b"/arpose/person/hand\x00,isf"


def test_hands_face_frame_within_1400_bytes_decodes_to_the_same_arrays():
    """Two people (one with the left hand and nothing else unseen, one without a face) in one
    frame: every datagram <= 1400 bytes, starts with the frame header, and the decoded messages
    give back every array (float32 exact, NaN where unseen)."""
    people = (make_person(0, 5, left_seen=False), make_person(1, 6, face_seen=False))
    grams = frame_datagrams(PoseFrame(Frame(IMG, 1.5, 7), people))
    assert max(map(len, grams)) <= 1400
    msgs = [m for g in grams for m in decode(g)]
    assert all(decode(g)[0] == ("/arpose/frame", (7, 1.5, 2)) for g in grams)
    for p in people:
        pid = p.id
        mine = [(a, args[1:]) for a, args in msgs if a.startswith("/arpose/person/") and args[0] == pid]
        by = {}
        for a, args in mine:
            by.setdefault(a, []).append(args)
        for side, name in enumerate(("left", "right")):
            (hand,) = [args for args in by["/arpose/person/hand"] if args[0] == name]
            check_floats(hand[1:2], p.hands[side, :1, 3])
            check_floats(hand[2:], p.hands[side, :, :3])
            (world,) = [args for args in by["/arpose/person/hand/world"] if args[0] == name]
            check_floats(world[1:], p.hands_world[side])
            (fingers,) = [args for args in by["/arpose/person/fingers"] if args[0] == name]
            want = (
                p.fingers.local_rotations[side * 15 : side * 15 + 15] if p.fingers.seen[side] else np.full(60, np.nan)
            )
            check_floats(fingers[1:], want)
        face = by["/arpose/person/face"]
        assert len(face) == FACE_MESSAGES == 6 and [a[1] for a in face] == list(
            range(0, NUM_FACE_LANDMARKS, FACE_CHUNK)
        )
        check_floats([a[0] for a in face], np.full(6, p.face[0, 3]))
        check_floats(np.concatenate([a[2:] for a in face]), p.face[:, :3])
        if p.face_pose is None:
            assert np.isnan(p.face).all() and "/arpose/person/expressions" not in by and "/arpose/person/eyes" not in by
        else:
            (expr,) = by["/arpose/person/expressions"]
            assert list(expr[0::2]) == [e.label for e in Expression]
            check_floats(expr[1::2], p.face_pose.expressions)
            (eyes,) = by["/arpose/person/eyes"]
            check_floats(eyes, np.append(p.face_pose.eye_rotations.ravel(), 0.3))
    # no zero stands in for a hand not seen
    (left,) = [a for (a,) in [(args,) for ad, args in msgs if ad == "/arpose/person/hand" and args[:2] == (0, "left")]]
    assert all(np.isnan(v) for v in left[2:])


def test_people_without_hands_or_face_send_what_they_sent_before():
    p = make_person(0, 5)
    bare = Person(p.id, p.landmarks, p.world, p.score, body=p.body, angles=p.angles)
    assert hands_face_messages(bare) == []
    full = person_messages(p)
    assert full[: len(person_messages(bare))] == person_messages(bare)
    # with hands asked for but no face, only the hand messages are added
    hands_only = Person(p.id, p.landmarks, p.world, p.score, hands=p.hands, hands_world=p.hands_world)
    assert [m[:24] for m in hands_face_messages(hands_only)] == [
        b"/arpose/person/hand\x00,isf",
        b"/arpose/person/hand/worl",
    ] * 2


def test_sizes_of_a_full_frame(receiver):
    """One person with body, angles, both hands and face over a real socket: every datagram
    arrives whole; the frame's size and datagram count are the ones docs/osc.md gives."""
    p = make_person(0, 9)
    sink = RawOscSink("127.0.0.1", receiver.port)
    sent, send = [], sink.sender.send
    sink.sender.send = lambda datagram, family, addr: sent.append(datagram) or send(datagram, family, addr)
    sink.write(PoseFrame(Frame(IMG, 0.0, 0), (p,)), None)
    sink.close()
    want = [m for g in sent for m in decode(g)]
    got = receiver.wait_for(len(want))
    assert [a for a, _ in got] == [a for a, _ in want]
    assert max(map(len, sent)) <= 1400
    assert (len(sent), sum(map(len, sent))) == (12, 13416)  # sizes depend on the fields, not their values
