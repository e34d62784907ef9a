"""VMC: the encoders byte for byte (datagrams built by hand from the OSC 1.0 spec, then
decoded by python-osc as a second check); every address, type and value of a frame and the rig
world -> Unity conversion checked with analytic poses (forward kinematics on python-osc's
decoding of the datagrams); the real network path over loopback (every datagram arrives
unchanged, person N on port + N)."""

import math

import numpy as np
import pytest
from scipy.spatial.transform import Rotation as R

from arpose.broadcast.osc import UDP_MAX_PAYLOAD
from arpose.broadcast.vmc import (
    STANDARD_HIP_HEIGHT,
    SlotAllocator,
    VmcPose,
    VmcSink,
    body_scale,
    encode_pose,
    encode_status,
)
from arpose.retarget.body import BodyPose
from arpose.skeleton import BONE_INDEX, BONE_NAMES, NUM_BONES, REST_OFFSETS, forward_kinematics, scaled_offsets
from arpose.types import Frame, Person, PoseFrame

IMG = np.zeros((4, 4, 3), np.uint8)
N_MSG = 1 + NUM_BONES + 2  # Root, bones, OK, T


def body(rots=None, root=(0.0, 0.1, -3.0), offsets=REST_OFFSETS, floor=float("nan")):
    """A BodyPose from ``{bone: scipy Rotation}`` local rotations (rig frame), the rest identity."""
    q = np.tile([0.0, 0.0, 0.0, 1.0], (NUM_BONES, 1))
    for name, r in (rots or {}).items():
        q[BONE_INDEX[name]] = r.as_quat()
    pos, _ = forward_kinematics(q, np.asarray(root, float), offsets)
    return BodyPose(q, np.asarray(root, float), pos, np.asarray(offsets, float), np.ones(NUM_BONES), floor_height=floor)


def person(b, pid=0):
    lm = np.full((33, 5), 0.5, np.float32)
    return Person(pid, lm, np.zeros((33, 3), np.float32), 0.9, body=b)


def pf(people, t, i=0):
    return PoseFrame(Frame(IMG, t, i), tuple(people))


def direction(gp, a, b):
    d = gp[b] - gp[a]
    return d / np.linalg.norm(d)


@pytest.fixture(autouse=True)
def _tools(vmc_tools, osc_spec):
    global frames_of, unity_fk, decode
    frames_of, unity_fk, decode = vmc_tools.frames_of, vmc_tools.unity_fk, osc_spec.decode


def capture(frames, **kw):
    """The datagrams a :class:`VmcSink` sends for ``frames`` (``(datagram, port)`` each),
    recorded instead of sent."""
    sink = VmcSink("127.0.0.1", 39539, **kw)
    sent = []
    sink.sender.send = lambda datagram, family, addr: sent.append((datagram, addr[1])) or True
    for f in frames:
        sink.write(f, None)
    sink.close()
    return sink, sent


def encode_and_decode(frames, **kw):
    """The sink's frames as python-osc decodes its datagrams: a list of frames, each a list of
    ``(address, args)``."""
    sink, sent = capture(frames, **kw)
    return sink, frames_of([m for datagram, _ in sent for m in decode(datagram)])


def f32(*values):
    """Values as a float32 arrives (python-osc decodes float32 to the nearest float exactly)."""
    return tuple(float(np.float32(v)) for v in values)


def test_status_messages_byte_for_byte():
    ok = b"/VMC/Ext/OK\x00" + b",iiii\x00\x00\x00"
    t = b"/VMC/Ext/T\x00\x00" + b",f\x00\x00"
    # Loaded 1, calibrated 3, normal mode 0, tracked 1; time 1.5 s.
    assert encode_status(1.5, calibrated=True, tracking=True) == [
        ok + bytes.fromhex("00000001 00000003 00000000 00000001"),
        t + bytes.fromhex("3fc00000"),
    ]
    # Waiting for calibration 1, tracking lost 0; time -0.25 s.
    assert encode_status(-0.25, calibrated=False, tracking=False) == [
        ok + bytes.fromhex("00000001 00000001 00000000 00000000"),
        t + bytes.fromhex("be800000"),
    ]
    assert [m for d in encode_status(1.5, True, False) for m in decode(d)] == [
        ("/VMC/Ext/OK", (1, 3, 0, 0)),
        ("/VMC/Ext/T", (1.5,)),
    ]


QUATS = np.array([[0.0, 0.0, 0.0, 1.0], [0.5, 0.5, 0.5, 0.5], [1.0, 0.0, 0.0, 0.0], [0.0, -0.5, 0.5, -0.5]])


def test_pose_messages_byte_for_byte(osc_spec):
    i = np.arange(NUM_BONES)[:, None]
    positions = np.hstack([i / 4, -i / 8, 1 + i / 16])
    rotations = QUATS[np.arange(NUM_BONES) % len(QUATS)]
    pose = VmcPose(np.array([0.25, 0.0, -1.5]), np.array([0.0, 0.0, 0.0, 1.0]), positions, rotations)
    msgs = encode_pose(pose)
    assert len(msgs) == 1 + NUM_BONES
    assert msgs[0] == (
        b"/VMC/Ext/Root/Pos\x00\x00\x00"
        + b",sfffffff\x00\x00\x00"
        + b"root\x00\x00\x00\x00"
        + bytes.fromhex("3e800000 00000000 bfc00000")  # 0.25, 0, -1.5
        + bytes.fromhex("00000000 00000000 00000000 3f800000")  # 0, 0, 0, 1
    )
    for k, name in enumerate(BONE_NAMES):
        want = osc_spec.message(
            "/VMC/Ext/Bone/Pos", ",sfffffff", osc_spec.string(name), osc_spec.floats(*positions[k], *rotations[k])
        )
        assert msgs[1 + k] == want, name
        assert decode(msgs[1 + k]) == [("/VMC/Ext/Bone/Pos", (name, *positions[k], *rotations[k]))]
    assert msgs[1 + BONE_INDEX["Hips"]] == (  # the reference encoder's output spelt out once
        b"/VMC/Ext/Bone/Pos\x00\x00\x00"
        + b",sfffffff\x00\x00\x00"
        + b"Hips\x00\x00\x00\x00"
        + bytes.fromhex("00000000 00000000 3f800000")  # position (0, 0, 1)
        + bytes.fromhex("00000000 00000000 00000000 3f800000")  # rotation (0, 0, 0, 1)
    )


def raw_body(q, root):
    """A BodyPose from raw ``(B, 4)`` local rotations (rig frame) at ``root``, standard size."""
    pos, _ = forward_kinematics(q / np.linalg.norm(q, axis=1, keepdims=True), root, REST_OFFSETS)
    return BodyPose(q, root, pos, REST_OFFSETS.copy(), np.ones(NUM_BONES))


def test_sink_datagrams_byte_for_byte(osc_spec):
    """Two frames through the sink: the datagrams are bundles (time tag "immediately") of
    exactly the messages built by hand, split in order below 1400 bytes."""
    S = osc_spec
    q = np.tile([0.0, 0.0, 0.0, 1.0], (NUM_BONES, 1))
    q[BONE_INDEX["Hips"]] = (0.0, 0.0, 0.0, 2.0)  # not unit length: sent normalised
    q[BONE_INDEX["LeftUpperArm"]] = (0.5, 0.5, 0.5, 0.5)
    q[BONE_INDEX["Head"]] = (0.0, 1.0, 0.0, 0.0)
    unit = q.copy()
    unit[BONE_INDEX["Hips"]] /= 2.0
    root0 = np.array([0.25, 0.5, -3.0])
    roots, times = [root0, root0 + (0.5, 0.25, 0.5)], [0.5, 0.75]
    frames = [pf([person(raw_body(q, r))], t, k) for k, (r, t) in enumerate(zip(roots, times))]

    want, values = [], []  # per frame: the messages' bytes, and their decoded (address, args)
    for r, t in zip(roots, times):
        d = r - root0  # the first frame calibrates the origin
        # Unity: X mirrored (a zero X goes out as -0.0, equal to 0.0 for any receiver).
        root = (-d[0], 0.0, d[2], 0.0, 0.0, 0.0, 1.0)
        msgs = [S.message("/VMC/Ext/Root/Pos", ",sfffffff", S.string("root"), S.floats(*root))]
        vals = [("/VMC/Ext/Root/Pos", ("root", *f32(*root)))]
        for k, name in enumerate(BONE_NAMES):
            o = REST_OFFSETS[k]
            # The Hips carry (0, hip height, 0), mirrored like every position (its X goes out as -0.0).
            p = (-0.0, STANDARD_HIP_HEIGHT + d[1], 0.0) if name == "Hips" else (-o[0], o[1], o[2])
            x, y, z, w = unit[k]
            args = (*p, x, -y, -z, w)
            msgs.append(S.message("/VMC/Ext/Bone/Pos", ",sfffffff", S.string(name), S.floats(*args)))
            vals.append(("/VMC/Ext/Bone/Pos", (name, *f32(*args))))
        msgs += [
            S.message("/VMC/Ext/OK", ",iiii", S.ints(1, 3, 0, 1)),
            S.message("/VMC/Ext/T", ",f", S.floats(t)),
        ]
        vals += [("/VMC/Ext/OK", (1, 3, 0, 1)), ("/VMC/Ext/T", (t,))]
        want.append(msgs)
        values.append(vals)

    _, sent = capture(frames, max_datagram=UDP_MAX_PAYLOAD)  # a frame per datagram
    assert [g for g, _ in sent] == [S.bundle(*msgs) for msgs in want]

    _, sent = capture(frames)  # the default budget splits each frame
    flat, start = [m for msgs in want for m in msgs], 0
    for g, port in sent:
        assert len(g) <= 1400 and port == 39539
        ends = [end for end in range(start + 1, len(flat) + 1) if S.bundle(*flat[start:end]) == g]
        assert ends, f"datagram {len(g)} bytes is not the bundle of the next messages in order"
        start = ends[0]
    assert start == len(flat) and len(sent) > len(frames)
    assert frames_of([m for g, _ in sent for m in decode(g)]) == values


def test_every_address_type_and_value():
    rng = np.random.default_rng(7)
    bodies = [
        body({n: R.from_quat(rng.normal(size=4)) for n in BONE_NAMES}, root=(0.3 + 0.1 * k, 0.05, -3.0 + 0.2 * k))
        for k in range(4)
    ]
    frames = [pf([person(b)], 0.5 + k / 30, k) for k, b in enumerate(bodies)]
    _, got = encode_and_decode(frames)
    assert len(got) == 4
    origin = bodies[0].root_position
    for k, (frame, b) in enumerate(zip(got, bodies)):
        addresses = [a for a, _ in frame]
        assert addresses == ["/VMC/Ext/Root/Pos"] + ["/VMC/Ext/Bone/Pos"] * NUM_BONES + ["/VMC/Ext/OK", "/VMC/Ext/T"]
        root = frame[0][1]
        assert root[0] == "root" and all(type(v) is float for v in root[1:]) and len(root) == 8
        d = b.root_position - origin
        np.testing.assert_allclose(root[1:4], [-d[0], 0.0, d[2]], atol=1e-6)  # X mirrored, on the floor
        np.testing.assert_allclose(root[4:8], [0, 0, 0, 1], atol=1e-7)
        for i, (address, args) in enumerate(frame[1 : 1 + NUM_BONES]):
            assert args[0] == BONE_NAMES[i] and len(args) == 8 and all(type(v) is float for v in args[1:])
            o = REST_OFFSETS[i]
            want_p = [0.0, STANDARD_HIP_HEIGHT + d[1], 0.0] if i == 0 else [-o[0], o[1], o[2]]
            np.testing.assert_allclose(args[1:4], want_p, atol=1e-6)
            q = b.local_rotations[i] / np.linalg.norm(b.local_rotations[i])
            np.testing.assert_allclose(args[4:8], [q[0], -q[1], -q[2], q[3]], atol=1e-6)
        assert frame[-2] == ("/VMC/Ext/OK", (1, 3, 0, 1))
        assert frame[-1][1][0] == pytest.approx(0.5 + k / 30, abs=1e-6)
        assert type(frame[-1][1][0]) is float


def test_unity_positions_are_mirrored_rig_forward_kinematics():
    """Any pose: FK on the received Unity transforms = the rig FK with X mirrored."""
    rng = np.random.default_rng(3)
    b = body({n: R.from_rotvec(rng.normal(scale=0.6, size=3)) for n in BONE_NAMES}, root=(0.0, 0.0, -2.0))
    _, got = encode_and_decode([pf([person(b)], 0.0)])
    gp, gr = unity_fk(got[0])
    rig_p, rig_q = forward_kinematics(b.local_rotations, np.array([0.0, STANDARD_HIP_HEIGHT, 0.0]), REST_OFFSETS)
    for i, name in enumerate(BONE_NAMES):
        np.testing.assert_allclose(gp[name], rig_p[i] * [-1, 1, 1], atol=1e-5)
        mirrored = rig_q[i] * [1, -1, -1, 1]
        assert abs(abs(np.dot(gr[name].as_quat(), mirrored)) - 1) < 1e-5


UNITY_LEFT, UNITY_RIGHT = np.array([-1.0, 0, 0]), np.array([1.0, 0, 0])
UP, DOWN, FORWARD, BACK = np.array([0, 1.0, 0]), np.array([0, -1.0, 0]), np.array([0, 0, 1.0]), np.array([0, 0, -1.0])


@pytest.mark.parametrize(
    "pose, checks",
    [
        # T-pose: the avatar's left arm along Unity -X (its left), right along +X, spine up.
        (
            {},
            [
                ("LeftUpperArm", "LeftLowerArm", UNITY_LEFT),
                ("RightLowerArm", "RightHand", UNITY_RIGHT),
                ("Hips", "Head", UP),
                ("LeftLowerLeg", "LeftFoot", DOWN),
            ],
        ),
        # Left arm raised forward (rig: rotate +X about Y by -90 deg -> +Z, the subject's forward).
        (
            {"LeftUpperArm": R.from_euler("y", -90, degrees=True)},
            [("LeftUpperArm", "LeftLowerArm", FORWARD), ("LeftLowerArm", "LeftHand", FORWARD)],
        ),
        # Right arm out to the side raised overhead; left arm down at the side (both about Z by -90 deg).
        (
            {
                "RightUpperArm": R.from_euler("z", -90, degrees=True),
                "LeftUpperArm": R.from_euler("z", -90, degrees=True),
            },
            [("RightUpperArm", "RightLowerArm", UP), ("LeftUpperArm", "LeftLowerArm", DOWN)],
        ),
        # Sitting: thigh forward, knee bent 90 deg so the shin hangs down.
        (
            {"LeftUpperLeg": R.from_euler("x", -90, degrees=True), "LeftLowerLeg": R.from_euler("x", 90, degrees=True)},
            [("LeftUpperLeg", "LeftLowerLeg", FORWARD), ("LeftLowerLeg", "LeftFoot", DOWN)],
        ),
        # Kneeling: knee bent 90 deg with the thigh straight: the shin points backwards.
        (
            {"RightLowerLeg": R.from_euler("x", 90, degrees=True)},
            [("RightUpperLeg", "RightLowerLeg", DOWN), ("RightLowerLeg", "RightFoot", BACK)],
        ),
        # Turned around (Hips 180 deg about Y): the avatar's left arm now along Unity +X.
        ({"Hips": R.from_euler("y", 180, degrees=True)}, [("LeftUpperArm", "LeftLowerArm", UNITY_RIGHT)]),
    ],
)
def test_analytic_poses_in_unity(pose, checks):
    _, got = encode_and_decode([pf([person(body(pose))], 0.0)])
    gp, _ = unity_fk(got[0])
    for a, b_, want in checks:
        np.testing.assert_allclose(direction(gp, a, b_), want, atol=1e-6, err_msg=f"{a}->{b_}")


def test_head_turned_to_subjects_left():
    """Head yaw 90 deg to the subject's left (rig +Y rotation): the face looks along Unity -X, the
    avatar's own left, and a tilt of the head forward (nod) looks down."""
    frames = [
        pf([person(body({"Head": R.from_euler("y", 90, degrees=True)}))], 0.0, 0),
        pf([person(body({"Head": R.from_euler("x", 30, degrees=True)}))], 0.1, 1),
    ]
    _, got = encode_and_decode(frames)
    _, gr = unity_fk(got[0])
    np.testing.assert_allclose(gr["Head"].apply(FORWARD), UNITY_LEFT, atol=1e-6)
    _, gr = unity_fk(got[1])
    face = gr["Head"].apply(FORWARD)
    assert face[1] == pytest.approx(-math.sin(math.radians(30)), abs=1e-6) and face[2] > 0.8


def test_translation_scale_and_floor():
    tall = scaled_offsets(1.72 * 1.25)  # a person 25 % taller than the standard body
    frames = [
        pf([person(body(root=(0.2, 0.3, -3.0), offsets=tall))], 0.0, 0),  # calibrates the origin
        pf([person(body(root=(1.45, 0.3, -1.75), offsets=tall))], 0.1, 1),  # 1.25 m right, 1.25 m closer
        pf([person(body(root=(1.45, 0.3 - 0.25, -1.75), offsets=tall))], 0.2, 2),  # crouch 0.25 m
        pf([person(body(root=(1.45, 0.3, -1.75), offsets=tall, floor=0.3 - 1.25 * 0.9))], 0.3, 3),  # floor known
    ]
    assert body_scale(tall) == pytest.approx(0.8)
    _, got = encode_and_decode(frames)
    roots = [np.array(f[0][1][1:4]) for f in got]
    hips = [f[1][1][2] for f in got]
    np.testing.assert_allclose(roots[0], [0, 0, 0], atol=1e-6)
    np.testing.assert_allclose(roots[1], [-1.0, 0, 1.0], atol=1e-6)  # image right = avatar's left (-X); closer = +Z
    assert hips[0] == pytest.approx(STANDARD_HIP_HEIGHT) and hips[1] == pytest.approx(STANDARD_HIP_HEIGHT)
    assert hips[2] == pytest.approx(STANDARD_HIP_HEIGHT - 0.2, abs=1e-6)
    assert hips[3] == pytest.approx(0.9, abs=1e-6)  # 1.125 m above the floor x 0.8


def test_lost_person_nan_values_and_missing_body():
    good = body({"LeftLowerArm": R.from_euler("z", 40, degrees=True)}, root=(0.0, 0.0, -3.0))
    q = good.local_rotations.copy()
    q[BONE_INDEX["LeftLowerArm"]] = np.nan
    holey = BodyPose(q, np.full(3, np.nan), good.positions, good.offsets, good.bone_confidence)
    frames = [pf([person(good)], 0.0, 0), pf([person(holey)], 0.1, 1), pf([], 0.2, 2), pf([person(None)], 0.3, 3)]
    sink, got = encode_and_decode(frames)
    assert [len(f) for f in got] == [N_MSG, N_MSG, 2, 2]
    i = 1 + BONE_INDEX["LeftLowerArm"]
    assert got[1][i][1] == got[0][i][1]  # NaN rotation holds the previous frame's
    assert got[1][0][1] == got[0][0][1]  # NaN root holds the previous root
    assert got[2][0] == ("/VMC/Ext/OK", (1, 3, 0, 0))  # nobody: tracking lost, pose held
    assert got[3][0] == ("/VMC/Ext/OK", (1, 3, 0, 0))  # no retargeted body: status only
    assert sink.people_without_body == 1
    for f in got:
        for _, args in f:
            assert not any(isinstance(v, float) and math.isnan(v) for v in args)


def test_every_datagram_arrives_unchanged_over_udp(receiver):
    """The real network path: what a python-osc server receives is, message for message, what
    the sink's datagrams hold (their content is checked byte for byte above)."""
    rng = np.random.default_rng(11)
    frames = [
        pf(
            [person(body({n: R.from_rotvec(rng.normal(size=3)) for n in BONE_NAMES}, root=(0.1 * k, 0.0, -3.0)))],
            k / 30,
            k,
        )
        for k in range(4)
    ]
    sink = VmcSink("127.0.0.1", receiver.port)
    sent, send = [], sink.sender.send
    sink.sender.send = lambda datagram, family, addr: sent.append(datagram) or send(datagram, family, addr)
    for f in frames:
        sink.write(f, None)
    sink.close()
    got = receiver.wait_for(N_MSG * len(frames))
    assert got == [m for datagram in sent for m in decode(datagram)] and len(frames_of(got)) == 4
    stats = sink.sender.stats
    assert stats.sent == len(sent) > 4 and stats.dropped == 0 and stats.bytes_sent == sum(map(len, sent))


def test_person_n_goes_to_port_plus_n(receiver_pair):
    a, b = receiver_pair
    sink = VmcSink("127.0.0.1", a.port)
    p0 = body(root=(0.0, 0.0, -3.0))
    p1 = body({"Hips": R.from_euler("y", 90, degrees=True)}, root=(1.0, 0.0, -4.0))
    for k in range(3):
        sink.write(pf([person(p0, 0), person(p1, 1)], k / 30, k), None)
    sink.close()
    fa, fb = frames_of(a.wait_for(3 * N_MSG)), frames_of(b.wait_for(3 * N_MSG))
    assert len(fa) == len(fb) == 3
    assert fa[0][1][1][4:8] == pytest.approx((0, 0, 0, 1), abs=1e-6)
    assert fb[0][1][1][4:8] == pytest.approx(tuple(R.from_euler("y", -90, degrees=True).as_quat()), abs=1e-6)
    # Each person is calibrated at their own origin.
    assert fa[0][0][1][1:4] == pytest.approx((0, 0, 0)) and fb[0][0][1][1:4] == pytest.approx((0, 0, 0))


def test_slot_allocator():
    s = SlotAllocator(max_slots=2, release_after_s=1.0)
    assert s.assign([0], 0.0) == {0: 0}
    assert s.assign([5, 0], 0.1) == {5: 1, 0: 0}  # id 5 takes the lowest free slot
    assert s.assign([7, 0, 5], 0.2) == {0: 0, 5: 1}  # no slot left for id 7
    assert s.assign([0], 0.5) == {0: 0}  # id 5 absent, slot still held
    assert s.assign([7, 0], 1.5) == {7: 1, 0: 0}  # released after 1 s; id 7 gets it


def test_rate_cap_thins_frames():
    frames = [pf([person(body())], k / 30, k) for k in range(6)]
    sink, got = encode_and_decode(frames, rate_hz=1.0)
    assert len(got) == 1 and sink.limiter.skipped == 5


def test_datagrams_stay_mtu_sized(monkeypatch):
    sizes = []
    sink = VmcSink("127.0.0.1", 39539)
    monkeypatch.setattr(sink.sender, "send", lambda d, fam, addr: sizes.append(len(d)) or True)
    sink.write(pf([person(body())], 0.0), None)
    assert len(sizes) >= 2 and max(sizes) <= 1400


def test_recalibrate_and_slot_reuse_with_unknown_root():
    from pythonosc.osc_message import OscMessage

    from arpose.broadcast.vmc import VmcEncoder

    def root_of(msgs):
        return OscMessage(msgs[0]).params[1:4]

    enc = VmcEncoder()
    assert root_of(enc.encode(body(root=(0.0, 0.0, -3.0)), 0.0)) == pytest.approx([0, 0, 0])
    assert root_of(enc.encode(body(root=(0.5, 0.0, -3.0)), 0.1)) == pytest.approx([-0.5, 0, 0])
    enc.recalibrate()
    unknown = body(root=(0.5, 0.0, -3.0))
    unknown = BodyPose(
        unknown.local_rotations, np.full(3, np.nan), unknown.positions, unknown.offsets, unknown.bone_confidence
    )
    assert root_of(enc.encode(unknown, 0.2)) == pytest.approx([0, 0, 0])  # the held root is the new origin
    # Slot 0 released after 2 s and taken by someone else whose root is not known yet.
    sink = VmcSink("127.0.0.1", 39539)
    sent = []
    sink._send = lambda slot, msgs: sent.append((slot, msgs))
    sink.write(pf([person(body(root=(1.0, 0.0, -3.0)), 0)], 0.0), None)
    sink.write(pf([person(unknown, 9)], 5.0), None)
    assert [s for s, _ in sent] == [0, 0]
    assert root_of(sent[1][1]) == pytest.approx([0, 0, 0]) and OscMessage(sent[1][1][-2]).params == [1, 1, 0, 1]


def test_a_stream_starts_calibrating_and_its_first_pose_is_settled():
    """Until the retargeted body has settled only the status goes out, calibrating (2), tracking;
    the first settled body is the first pose, calibrated (3), and sets the origin."""
    from dataclasses import replace

    early = [replace(body(root=(0.5 * k, 0.3 - 0.1 * k, -4.0)), settled=False) for k in range(3)]  # jumping
    settled = [body(root=(0.2, 0.1, -3.0)), body(root=(0.3, 0.1, -3.0))]
    frames = [pf([person(b)], 0.1 * k, k) for k, b in enumerate(early + settled)]
    _, got = encode_and_decode(frames)
    assert [len(f) for f in got] == [2, 2, 2, N_MSG, N_MSG]
    for f in got[:3]:
        assert f[0] == ("/VMC/Ext/OK", (1, 2, 0, 1)) and all(a != "/VMC/Ext/Root/Pos" for a, _ in f)
    assert got[3][0][0] == "/VMC/Ext/Root/Pos" and got[3][0][1][1:4] == pytest.approx((0.0, 0.0, 0.0), abs=1e-6)
    assert got[4][0][1][1:4] == pytest.approx((-0.1, 0.0, 0.0), abs=1e-6)  # 0.1 m to the image's right
    assert got[3][-2] == ("/VMC/Ext/OK", (1, 3, 0, 1))
    hips = got[3][1][1]
    assert hips[0] == "Hips" and hips[2] == pytest.approx(STANDARD_HIP_HEIGHT)  # no rise from the early frames
