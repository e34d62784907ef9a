"""VMC fingers, eyes and blend shapes (issue 17).

Known answers: the blend shape messages byte for byte against the reference OSC encoder of
conftest.py (the Val order of the name table, one Apply per frame after them, VRM 0.x and 1.0
names, none for ``off``); a 90-degree flexion of the left index sent, decoded by python-osc and
converted back to the rig frame, with the finger then pointing straight down in Unity; the body's
messages unchanged by hands and face; finger and eye bones on a VRM 0.x / 1.0 avatar file that has
them (scaled rest offsets; rest rotations undone by the receiver); the option's validation, CLI
and TOML round trip; and a real clip through the real pipeline to a real UDP socket."""

from __future__ import annotations

import argparse
import itertools

import numpy as np
import pytest
from pygltflib import GLTF2, Node, Scene
from scipy.spatial.transform import Rotation as R

from arpose import spec as S
from arpose.app import feat_osc
from arpose.broadcast.avatar import VRM1_DETAIL_NAMES, read_avatar
from arpose.broadcast.vmc import BLEND_SHAPE_TABLE, VmcEncoder, VmcSink
from arpose.errors import ConfigError
from arpose.landmarks import Finger, Side
from arpose.retarget.body import BodyPose
from arpose.retarget.face import Expression, FacePose
from arpose.retarget.fingers import HandsPose, flexion_direction
from arpose.skeleton import (
    BONE_NAMES,
    EYE_BONE_NAMES,
    EYE_BONES,
    FINGER_BONE_NAMES,
    FINGER_BONES,
    FINGER_REST_DIRECTIONS,
    NUM_BONES,
    PARENTS,
    REST_OFFSETS,
    finger_bone_index,
    forward_kinematics,
)
from arpose.types import Frame, Person, PoseFrame

IMG = np.zeros((4, 4, 3), np.uint8)
ID = np.array([0.0, 0.0, 0.0, 1.0])
#: Every bone the stream can carry and its parent: body, fingers, eyes.
ALL_PARENT = {
    **{b: (BONE_NAMES[PARENTS[i]] if PARENTS[i] >= 0 else None) for i, b in enumerate(BONE_NAMES)},
    **{b.name: b.parent for b in FINGER_BONES + EYE_BONES},
}
ALL_OFFSET = {
    **{b: REST_OFFSETS[i] for i, b in enumerate(BONE_NAMES)},
    **{b.name: np.array(b.offset) for b in FINGER_BONES + EYE_BONES},
}


@pytest.fixture(autouse=True)
def _tools(osc_spec):
    global decode
    decode = osc_spec.decode


def body(q=None, root=(0.0, 0.1, -3.0)):
    q = np.tile(ID, (NUM_BONES, 1)) if q is None else np.asarray(q, float)
    pos, _ = forward_kinematics(q, np.asarray(root, float), REST_OFFSETS)
    return BodyPose(q, np.asarray(root, float), pos, REST_OFFSETS.copy(), np.ones(NUM_BONES))


def face_pose(weights, eyes=None, jaw=0.5):
    """A FacePose with ``weights`` ``(11,)`` by :class:`Expression` and ``eyes`` ``(2, 4)``."""
    eyes = np.tile(ID, (2, 1)) if eyes is None else np.asarray(eyes, float)
    return FacePose(ID.copy(), eyes, jaw, np.asarray(weights, float), features=None, calibrated=True)


def hands_pose(rotations=None, seen=(True, True)):
    """A HandsPose from ``{finger bone: (4,)}`` local rotations (rig frame), the rest identity."""
    q = np.tile(ID, (30, 1))
    for name, r in (rotations or {}).items():
        q[FINGER_BONE_NAMES.index(name)] = r
    return HandsPose(q, np.array(seen), (None, None), np.full((2, 4), np.nan))


def person(b=None, fingers=None, fp=None, pid=0):
    lm = np.full((33, 5), 0.5, np.float32)
    return Person(pid, lm, np.zeros((33, 3), np.float32), 0.9, body=b, fingers=fingers, face_pose=fp)


def pf(people, t, i=0):
    return PoseFrame(Frame(IMG, t, i), tuple(people))


def capture(frames, **kw):
    """The messages (``(address, args)``, python-osc's decoding) a VmcSink sends for each frame,
    and the raw datagrams."""
    sink = VmcSink("127.0.0.1", 39539, **kw)
    sent, per_frame = [], []
    sink.sender.send = lambda datagram, family, addr: sent.append(datagram) or True
    for f in frames:
        start = len(sent)
        sink.write(f, None)
        per_frame.append([m for d in sent[start:] for m in decode(d)])
    sink.close()
    return per_frame, sent


WEIGHTS = np.array([0.9, 0.125, 0.5, 0.25, 0.375, 0.0, 0.625, 0.75, 0.875, 1.0, 0.0625])


# --------------------------------------------------------------------------------------------
# blend shapes


def test_the_name_table_covers_every_expression_but_mouth_open():
    assert {e for e, _, _ in BLEND_SHAPE_TABLE} == {e.name for e in Expression if e is not Expression.MOUTH_OPEN}
    assert [e for e, _, _ in BLEND_SHAPE_TABLE] == [
        *("BLINK_LEFT", "BLINK_RIGHT", "A", "I", "U", "E", "O", "SMILE", "BROWS_DOWN", "BROWS_UP")
    ]
    table = {e: (a, b) for e, a, b in BLEND_SHAPE_TABLE}
    assert table["BLINK_LEFT"] == ("Blink_L", "blinkLeft") and table["SMILE"] == ("Joy", "happy")
    assert table["BROWS_UP"] == ("Surprised", "surprised") and table["BROWS_DOWN"] == ("Angry", "angry")
    assert [table[v][1] for v in "AIUEO"] == ["aa", "ih", "ou", "ee", "oh"]


@pytest.mark.parametrize("names", ["vrm0", "vrm1"])
def test_blend_messages_byte_for_byte(osc_spec, names):
    """Val for every table row in the table's order (the subject's left blink as Blink_L /
    blinkLeft), then exactly one Apply, between the bones and the status."""
    S_ = osc_spec
    column = 1 if names == "vrm0" else 2
    enc = VmcEncoder(expressions=names)
    msgs = enc.encode(None, 0.5, face_pose=face_pose(WEIGHTS))
    want = [
        S_.message("/VMC/Ext/Blend/Val", ",sf", S_.string(row[column]), S_.floats(WEIGHTS[Expression[row[0]]]))
        for row in BLEND_SHAPE_TABLE
    ]
    want.append(S_.message("/VMC/Ext/Blend/Apply", ","))
    blend = [m for m in msgs if m.startswith(b"/VMC/Ext/Blend/")]
    assert blend == want
    assert [m[:17] for m in msgs[:2]] == [b"/VMC/Ext/Bone/Pos"] * 2  # the eyes, then the blend shapes
    assert msgs[2:-2] == want and [m[:10] for m in msgs[-2:]] == [b"/VMC/Ext/O", b"/VMC/Ext/T"]
    assert want[0] == (  # spelt out once: "Blink_L" (7 chars + NUL), 0.9 as float32
        b"/VMC/Ext/Blend/Val\x00\x00,sf\x00" + (b"Blink_L\x00" if names == "vrm0" else b"blinkLeft\x00\x00\x00")
    ) + bytes.fromhex("3f666666")
    decoded = [decode(m)[0] for m in blend]
    assert decoded[0] == ("/VMC/Ext/Blend/Val", ("Blink_L" if names == "vrm0" else "blinkLeft", float(np.float32(0.9))))
    assert decoded[-1] == ("/VMC/Ext/Blend/Apply", ())


def test_off_sends_no_blend_shapes_and_nan_weights_are_left_out():
    fp = face_pose(WEIGHTS)
    assert not [m for m in VmcEncoder(expressions="off").encode(None, 0.0, face_pose=fp) if b"/Blend/" in m]
    w = WEIGHTS.copy()
    w[Expression.BLINK_RIGHT] = np.nan
    got = [decode(m)[0] for m in VmcEncoder().encode(None, 0.0, face_pose=face_pose(w)) if b"/Blend/" in m]
    names = [a[0] for ad, a in got if ad.endswith("Val")]
    assert "Blink_R" not in names and len(names) == len(BLEND_SHAPE_TABLE) - 1
    assert got[-1] == ("/VMC/Ext/Blend/Apply", ())
    assert not any(np.isnan(a[1]) for ad, a in got if ad.endswith("Val"))
    with pytest.raises(ConfigError, match="--vmc-expressions must be vrm0, vrm1 or off"):
        VmcSink("127.0.0.1", 39539, expressions="VRM0")


def test_one_apply_per_frame_after_its_vals_through_the_sink():
    frames = [pf([person(body(), fp=face_pose(WEIGHTS * (k + 1) / 4))], k / 30, k) for k in range(4)]
    per_frame, sent = capture(frames)
    assert all(len(d) <= 1400 for d in sent)
    for k, msgs in enumerate(per_frame):
        addresses = [a for a, _ in msgs]
        assert addresses.count("/VMC/Ext/Blend/Apply") == 1
        apply = addresses.index("/VMC/Ext/Blend/Apply")
        vals = [i for i, a in enumerate(addresses) if a == "/VMC/Ext/Blend/Val"]
        assert len(vals) == len(BLEND_SHAPE_TABLE) and max(vals) < apply < addresses.index("/VMC/Ext/OK")
        blink = next(a[1] for ad, a in msgs if ad == "/VMC/Ext/Blend/Val" and a[0] == "Blink_L")
        assert blink == pytest.approx(min(1.0, 0.9 * (k + 1) / 4), abs=1e-6)
    # a person without a face sends none
    per_frame, _ = capture([pf([person(body())], 0.0)])
    assert not [a for a, _ in per_frame[0] if "Blend" in a]


def test_a_receiver_ignoring_blend_shapes_and_details_sees_the_body_unchanged():
    """The body's messages are the same bytes with hands and face (expressions on or off) as
    without them; what is added is only finger / eye Bone/Pos and Blend messages."""
    rng = np.random.default_rng(3)
    q = R.random(NUM_BONES, random_state=4).as_quat()
    b = body(q, root=(0.2, 0.05, -2.5))
    fingers = hands_pose({n: R.random(random_state=k).as_quat() for k, n in enumerate(FINGER_BONE_NAMES)})
    fp = face_pose(rng.random(11), eyes=R.random(2, random_state=9).as_quat())
    plain = VmcEncoder().encode(b, 1.0)
    for names in ("vrm0", "vrm1", "off"):
        full = VmcEncoder(expressions=names).encode(b, 1.0, fingers, fp)
        extra = {FINGER_BONE_NAMES[k].encode() for k in range(30)} | {n.encode() for n in EYE_BONE_NAMES}
        body_only = [
            m
            for m in full
            if b"/Blend/" not in m and not (m.startswith(b"/VMC/Ext/Bone/Pos") and m[32:].split(b"\0")[0] in extra)
        ]
        assert body_only == plain, names


# --------------------------------------------------------------------------------------------
# fingers and eyes


def unity_globals(msgs):
    """Global Unity positions and rotations of every bone received (root + local Bone/Pos, parents
    as in arpose's skeleton): what a Unity receiver's transforms end up with."""
    root = next(a for ad, a in msgs if ad == "/VMC/Ext/Root/Pos")
    local = {a[0]: (np.array(a[1:4]), R.from_quat(a[4:8])) for ad, a in msgs if ad == "/VMC/Ext/Bone/Pos"}
    gp, gr = {}, {}
    for name in list(BONE_NAMES) + [b.name for b in FINGER_BONES + EYE_BONES]:
        if name not in local:
            continue
        parent = ALL_PARENT[name]
        pp, pr = (np.array(root[1:4]), R.from_quat(root[4:8])) if parent is None else (gp[parent], gr[parent])
        gp[name] = pp + pr.apply(local[name][0])
        gr[name] = pr * local[name][1]
    return gp, gr


def test_a_90_degree_index_flexion_arrives_as_sent():
    """The left index's proximal bone flexed 90 degrees towards the palm (palm down in the
    T-pose): decoded and turned back into the rig frame it is the rotation sent, and the finger's
    next joint lies straight below its knuckle in Unity. The right hand, not seen, sends nothing."""
    b = finger_bone_index(Side.LEFT, Finger.INDEX, 0)
    e_f = FINGER_REST_DIRECTIONS[b]
    e_n = flexion_direction(Side.LEFT, Finger.INDEX)
    axis = np.cross(e_f, e_n)
    flex = R.from_rotvec(np.pi / 2 * axis / np.linalg.norm(axis))
    assert np.allclose(flex.apply(e_f), [0.0, -1.0, 0.0])  # towards the palm: down
    fingers = hands_pose({"LeftIndexProximal": flex.as_quat()}, seen=(True, False))
    (msgs,), _ = capture([pf([person(body(), fingers=fingers)], 0.0)])
    bones = [a[0] for ad, a in msgs if ad == "/VMC/Ext/Bone/Pos"]
    left = [n for n in FINGER_BONE_NAMES if n.startswith("Left")]
    assert bones == list(BONE_NAMES) + left  # body first, then the seen hand's 15, parents first
    args = next(a for ad, a in msgs if ad == "/VMC/Ext/Bone/Pos" and a[0] == "LeftIndexProximal")
    x, y, z, w = args[4:8]
    back = R.from_quat([x, -y, -z, w])  # Unity -> rig: mirror X
    assert (back * flex.inv()).magnitude() < 1e-6
    np.testing.assert_allclose(args[1:4], [-0.085, 0.0, 0.025], atol=1e-7)  # rest offset, X mirrored
    gp, _ = unity_globals(msgs)
    d = gp["LeftIndexIntermediate"] - gp["LeftIndexProximal"]
    np.testing.assert_allclose(d / np.linalg.norm(d), [0.0, -1.0, 0.0], atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(d), 0.040, atol=1e-6)
    # the unflexed fingers lie along the arm (Unity -X for the subject's left hand)
    d = gp["LeftMiddleIntermediate"] - gp["LeftMiddleProximal"]
    np.testing.assert_allclose(d / np.linalg.norm(d), [-1.0, 0.0, 0.0], atol=1e-6)


def test_eyes_follow_the_face_pose_and_nan_is_never_sent():
    """Eyes turned 20 degrees to the subject's left (+Y rig yaw) arrive as Unity's mirror
    (a turn to Unity -X); a NaN finger rotation is left out, not sent."""
    yaw = R.from_euler("y", 20, degrees=True).as_quat()
    fingers = hands_pose({"RightRingDistal": [np.nan] * 4})
    (msgs,), sent = capture([pf([person(body(), fingers=fingers, fp=face_pose(WEIGHTS, [yaw, yaw]))], 0.0)])
    bones = {a[0]: a for ad, a in msgs if ad == "/VMC/Ext/Bone/Pos"}
    assert "RightRingDistal" not in bones and "RightRingIntermediate" in bones
    assert [n for n in bones if n.endswith("Eye")] == ["LeftEye", "RightEye"]
    gp, gr = unity_globals(msgs)
    look = gr["LeftEye"].apply([0.0, 0.0, 1.0])
    np.testing.assert_allclose(look, [-np.sin(np.radians(20)), 0.0, np.cos(np.radians(20))], atol=1e-6)
    np.testing.assert_allclose(bones["LeftEye"][1:4], [-0.032, 0.035, 0.07], atol=1e-7)
    assert not any(np.isnan(v) for _, a in msgs for v in a if isinstance(v, float))
    assert all(len(d) <= 1400 for d in sent)


# --------------------------------------------------------------------------------------------
# an avatar file with finger and eye bones


def write_vrm(path, kind, scale=1.0, rest_rotations=None, drop=()):
    """arpose's skeleton with fingers and eyes (``scale`` x the rest offsets) as a VRM file (a
    VRM 0.x one facing -Z, as UniVRM 0.x exports them); ``rest_rotations`` ``{bone: (4,)}`` world
    rest rotations (the joints stay where they are); ``drop``: humanoid bones left out of the
    file's humanoid table."""
    names = list(BONE_NAMES) + [b.name for b in FINGER_BONES + EYE_BONES]
    index = {n: k for k, n in enumerate(names)}
    flip = np.diag([-1.0, 1.0, -1.0]) if kind == "vrm0" else np.eye(3)
    joint = {}
    for n in names:
        p = ALL_PARENT[n]
        joint[n] = flip @ ALL_OFFSET[n] * scale + (joint[p] if p else 0.0)
    rot = {n: R.from_quat((rest_rotations or {}).get(n, ID)) for n in names}
    nodes = []
    for n in names:
        p = ALL_PARENT[n]
        prot = rot[p] if p else R.identity()
        off = joint[n] - (joint[p] if p else 0.0)
        nodes.append(
            Node(
                name=f"J_{n}",
                translation=[float(v) for v in prot.inv().apply(off)],
                rotation=[float(v) for v in (prot.inv() * rot[n]).as_quat()],
                children=[index[c] for c in names if ALL_PARENT[c] == n],
            )
        )
    g = GLTF2()
    g.nodes, g.scenes, g.scene = nodes, [Scene(nodes=[0])], 0
    vrm_name = {n: n[0].lower() + n[1:] for n in names}
    if kind == "vrm1":
        vrm_name.update(VRM1_DETAIL_NAMES)
    bones = [n for n in names if n not in drop]
    if kind == "vrm0":
        g.extensions = {"VRM": {"humanoid": {"humanBones": [{"bone": vrm_name[n], "node": index[n]} for n in bones]}}}
    else:
        human = {vrm_name[n]: {"node": index[n]} for n in bones}
        g.extensions = {"VRMC_vrm": {"specVersion": "1.0", "humanoid": {"humanBones": human}}}
    assert g.save_binary(str(path))
    return path, rot


def random_frame(seed):
    q = R.random(NUM_BONES, random_state=seed).as_quat()
    fq = {n: R.random(random_state=seed * 100 + k).as_quat() for k, n in enumerate(FINGER_BONE_NAMES)}
    eyes = R.random(2, random_state=seed + 50).as_quat()
    return person(body(q), fingers=hands_pose(fq), fp=face_pose(WEIGHTS, eyes))


def bone_pos(msgs):
    return {a[0]: (np.array(a[1:4]), np.array(a[4:8])) for ad, a in msgs if ad == "/VMC/Ext/Bone/Pos"}


def test_vrm0_avatar_with_fingers_gets_them_scaled_and_skips_what_it_lacks(tmp_path):
    path, _ = write_vrm(tmp_path / "small.vrm", "vrm0", scale=0.8, drop=("RightLittleDistal", "LeftEye"))
    rig = read_avatar(path)
    assert "LeftThumbProximal" in rig.detail_names and "RightLittleDistal" not in rig.detail_names
    frames = [pf([random_frame(k)], k / 30, k) for k in range(3)]
    default, _ = capture(frames)
    small, _ = capture(frames, avatar=path)
    for d, s in zip(default, small):
        a, b = bone_pos(d), bone_pos(s)
        assert set(a) - set(b) == {"RightLittleDistal", "LeftEye"}
        for n in FINGER_BONE_NAMES + EYE_BONE_NAMES:
            if n in b:
                np.testing.assert_allclose(b[n][0], 0.8 * a[n][0], atol=1e-6, err_msg=n)
                assert abs(abs(np.dot(a[n][1], b[n][1])) - 1) < 1e-6, n


def test_vrm1_avatar_with_rest_rotations_ends_with_the_default_streams_fingers(tmp_path):
    """VRM 1.0 bones (thumbs named metacarpal / proximal / distal) with random rest rotations: a
    receiver setting the sent local transforms on the file's nodes gets every finger and eye
    joint where the default stream puts it, and each bone's rotation relative to its rest is the
    default stream's global rotation."""
    names = list(BONE_NAMES) + [b.name for b in FINGER_BONES + EYE_BONES]
    rest = dict(zip(names, R.random(len(names), random_state=11).as_quat()))
    path, rest_rot = write_vrm(tmp_path / "rotated.vrm", "vrm1", rest_rotations=rest)
    assert read_avatar(path).detail_names == tuple(FINGER_BONE_NAMES + EYE_BONE_NAMES)
    frames = [pf([random_frame(k)], k / 30, k) for k in range(3)]
    default, _ = capture(frames)
    original, _ = capture(frames, avatar=path)
    m = np.diag([-1.0, 1.0, 1.0])  # file (+Z facing) <-> Unity: mirror X
    for d, o in zip(default, original):
        gp, gr = unity_globals(d)
        got = bone_pos(o)
        assert set(got) == set(bone_pos(d))
        wp, wr = {}, {}
        root = next(a for ad, a in o if ad == "/VMC/Ext/Root/Pos")
        for n in names:  # the receiver: every node's local transform is what it received
            p = ALL_PARENT[n]
            lp, lq = got[n]
            lr = R.from_matrix(m @ R.from_quat(lq).as_matrix() @ m)
            pp, pr = (m @ np.array(root[1:4]), R.identity()) if p is None else (wp[p], wr[p])
            wp[n] = pp + pr.apply(m @ lp)
            wr[n] = pr * lr
        for n in FINGER_BONE_NAMES + EYE_BONE_NAMES:
            np.testing.assert_allclose(m @ wp[n], gp[n], atol=2e-6, err_msg=n)
            delta = wr[n] * rest_rot[n].inv()
            unity = R.from_matrix(m @ delta.as_matrix() @ m)
            assert (unity * gr[n].inv()).magnitude() < 1e-5, n


def test_gltf_models_without_fingers_send_none(media):
    rig = read_avatar(media / "models" / "CesiumMan.glb")
    assert rig.detail_names == ()
    (msgs,), _ = capture([pf([random_frame(1)], 0.0)], avatar=rig)
    assert not [a for ad, a in msgs if ad == "/VMC/Ext/Bone/Pos" and a[0] in FINGER_BONE_NAMES + EYE_BONE_NAMES]
    assert [a for ad, a in msgs if ad == "/VMC/Ext/Blend/Apply"] == [()]


# --------------------------------------------------------------------------------------------
# the option


def test_expressions_option_spec_cli_and_toml():
    spec = S.PipelineSpec(outputs=(S.VmcOutput("10.0.0.5", 39540, expressions="vrm1"),))
    assert S.spec_from_toml(S.spec_to_toml(spec)) == spec
    assert 'expressions = "vrm1"' in S.spec_to_toml(spec)
    assert S.spec_from_dict(S.spec_to_dict(spec)) == spec
    assert S.VmcOutput().expressions == "vrm0"
    with pytest.raises(ConfigError, match=r"^--vmc-expressions must be vrm0, vrm1 or off, got 'blink'$"):
        S.PipelineSpec(outputs=(S.VmcOutput(expressions="blink"),)).validate()
    parser = argparse.ArgumentParser()
    feat_osc.add_options(parser)
    args = parser.parse_args(["--vmc", "127.0.0.1:39540", "--vmc-expressions", "off"])
    assert feat_osc.apply(args, S.PipelineSpec()).output("vmc") == S.VmcOutput("127.0.0.1", 39540, expressions="off")
    with pytest.raises(ConfigError, match="need --vmc"):
        feat_osc.apply(parser.parse_args(["--vmc-expressions", "vrm1"]), S.PipelineSpec())
    with pytest.raises(SystemExit):
        parser.parse_args(["--vmc", "h", "--vmc-expressions", "VRM1"])


# --------------------------------------------------------------------------------------------
# end to end


@pytest.mark.slow
def test_blink_clip_through_the_pipeline_to_a_udp_socket(media, receiver):
    """face_blink_headtilt_tfjs.mp4 (SOURCES.md: blinks start at frames 0, 30 and 56) through the
    real pipeline with ``--face`` to a python-osc server: Blink_L and Blink_R rise at
    the blink at frame 30 (over 0.8 on frames 31-33) from under 0.3 a few frames before it; one
    Apply per frame."""
    from dataclasses import replace

    from arpose.build import build_pipeline, spec_for_source
    from arpose.source import open_source

    src = open_source(str(media / "videos" / "face_blink_headtilt_tfjs.mp4"))
    spec = spec_for_source(S.PipelineSpec(), src)
    spec = replace(spec, estimator=replace(spec.estimator, face=True))
    spec = spec.with_output(S.VmcOutput("127.0.0.1", receiver.port))
    n = 40
    with build_pipeline(spec, src) as pipeline:
        for frame in itertools.islice(src, n):
            pipeline.emit(pipeline.analyze(frame))
    msgs = receiver.wait_for(1)
    frames, cur = [], []
    for m in msgs:
        cur.append(m)
        if m[0] == "/VMC/Ext/T":
            frames.append(cur)
            cur = []
    assert len(frames) == n
    blink = {}
    for k, f in enumerate(frames):
        assert [a for a, _ in f].count("/VMC/Ext/Blend/Apply") == 1, k
        vals = {a[0]: a[1] for ad, a in f if ad == "/VMC/Ext/Blend/Val"}
        blink[k] = (vals["Blink_L"], vals["Blink_R"])
    assert all(max(blink[k]) < 0.3 for k in range(22, 27)), blink
    assert all(min(blink[k]) > 0.8 for k in range(31, 34)), blink  # both eyes shut
