"""BVH with the 30 finger bones (issue 17): hierarchy, a 90-degree index flexion read back as
90 degrees, fingertips where arpose's own finger kinematics put them (reader and Blender's
importer), hands held while unseen, and the body-only file byte for byte as before."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from arpose import skeleton as sk
from arpose.landmarks import Finger, Side
from arpose.performer.hands import finger_kinematics, finger_local_rotations
from arpose.record.bvh import bvh_fk, end_site_positions, read_bvh, skeleton_bvh_text
from arpose.record.export import body_track, bvh_for_track, export_bvh, finger_track, take_body_track
from arpose.record.take import TakeWriter, read_take, take_header
from arpose.retarget.fingers import HandsPose
from arpose.types import Frame, PoseFrame

sys.path.insert(0, str(Path(__file__).parent))  # the shared synthetic-take helper beside this file
from takegen import body_at, person_at  # noqa: E402

DATA = Path(__file__).parent / "data"
MM = 1e-3
IDENTITY = np.tile([0.0, 0.0, 0.0, 1.0], (sk.NUM_FINGER_BONES, 1))
LEFT_INDEX = [sk.finger_bone_index(Side.LEFT, Finger.INDEX, j) for j in range(3)]


def _hands(local, seen=(True, True)):
    return HandsPose(np.asarray(local, dtype=np.float64), np.array(seen), (None, None), np.full((2, 4), np.nan))


def _flexion(index_mcp_deg=0.0, t=0.0):
    """Both hands' flexion ``(2, 5, 3)``: the left index MCP at ``index_mcp_deg``, every other
    joint a smooth function of ``t`` (a known, varied hand)."""
    flex = 20.0 + 25.0 * np.sin(t + np.arange(30).reshape(2, 5, 3))
    flex[Side.LEFT, Finger.INDEX, 0] = index_mcp_deg
    return flex


def test_hierarchy_has_the_finger_chains(tmp_path):
    times = np.arange(3) / 30.0
    track = body_track((t, body_at(t), _hands(IDENTITY)) for t in times)
    path, _, _ = export_bvh(track, tmp_path / "f.bvh")
    data = read_bvh(path)
    assert len(data.joints) == sk.NUM_BONES + 30
    assert set(data.names) == set(sk.BONE_NAMES) | set(sk.FINGER_BONE_NAMES)
    by_name = {j.name: j for j in data.joints}
    for b in sk.FINGER_BONES:
        j = by_name[b.name]
        assert data.names[j.parent] == b.parent
        assert j.channels == ("Zrotation", "Xrotation", "Yrotation")
        np.testing.assert_allclose(j.offset, b.offset, atol=1e-6)  # scale 1: the skeleton's own
        assert (j.end_site is not None) == b.name.endswith("Distal")
        if j.end_site is not None:
            np.testing.assert_allclose(j.end_site, b.end, atol=1e-6)
    # the Hand bones now have children, so no End Site; the other leaves keep theirs
    assert by_name["LeftHand"].end_site is None and by_name["RightHand"].end_site is None
    assert by_name["Head"].end_site is not None and by_name["LeftToes"].end_site is not None
    # identity fingers: every finger joint at its rest position (T-pose, body at rest)
    pos, _ = bvh_fk(data)
    assert pos.shape == (3, sk.NUM_BONES + 30, 3)


def test_ninety_degree_index_flexion_reads_back_as_ninety(tmp_path):
    """The left index MCP flexed 90 degrees towards the palm: the BVH's ZXY channels of
    LeftIndexProximal are a 90-degree rotation about -Z (rest direction +X, palm -Y), and its
    fingertip is where arpose's finger kinematics put it, within 1 micrometre of print precision."""
    times = np.arange(4) / 30.0
    flex = np.stack([_flexion(90.0, t) for t in times])
    local = finger_local_rotations(flex)
    track = body_track((t, body_at(t), _hands(local[k])) for k, t in enumerate(times))
    path, written, _ = export_bvh(track, tmp_path / "ninety.bvh")
    data = read_bvh(path)
    j = data.index("LeftIndexProximal")
    joint = data.joints[j]
    r = Rotation.from_euler("ZXY", data.motion[:, joint.channel_start : joint.channel_start + 3], degrees=True)
    np.testing.assert_allclose(np.degrees(r.magnitude()), 90.0, atol=1e-4)
    np.testing.assert_allclose(r.as_rotvec() / r.magnitude()[:, None], np.tile([0, 0, -1.0], (4, 1)), atol=1e-6)
    # the index's tip: straight down from the knuckle (in the hand's frame) by the finger's length
    pos, rot = bvh_fk(data)
    ends = end_site_positions(data, pos, rot)
    hand_rot = Rotation.from_quat(rot[:, data.index("LeftHand")])
    knuckle = pos[:, j]
    tip = ends[data.index("LeftIndexDistal")]
    in_hand = hand_rot.inv().apply(tip - knuckle)
    assert np.all(in_hand[:, 1] < -0.05)  # towards the palm (-Y), the finger's length below
    assert np.all(np.abs(in_hand[:, 0]) < 0.04)  # no longer forward of the knuckle than the bent joints reach
    # every finger joint and tip against arpose's own finger kinematics on the body FK
    body_pos, body_rot = sk.forward_kinematics(written.local_rotations, written.root_positions, written.offsets)
    fpos, _, tips = finger_kinematics(body_pos, body_rot, local)
    names = list(data.names)
    got = pos[:, [names.index(n) for n in sk.FINGER_BONE_NAMES]]
    assert np.max(np.abs(got - fpos)) < 1e-5
    distal = [i for i, n in enumerate(sk.FINGER_BONE_NAMES) if n.endswith("Distal")]
    got_tips = np.stack([ends[names.index(sk.FINGER_BONE_NAMES[i])] for i in distal], axis=1)
    assert np.max(np.abs(got_tips - tips[:, distal])) < 1e-5


def test_body_only_bvh_is_byte_identical_to_before():
    """``data/body_only_ef2b220.bvh`` was written by commit ef2b220's writer (before fingers)
    from the same track; the writer now makes exactly the same bytes when there are no hands."""
    track = body_track((t, body_at(t, scale=1.1)) for t in np.arange(8) / 30.0)
    text, _, _ = bvh_for_track(track, nominal_fps=30.0)
    assert text == (DATA / "body_only_ef2b220.bvh").read_text()
    assert track.finger_rotations is None
    # and a track with None fingers on every frame is a body-only track too
    assert body_track((t, body_at(t), None) for t in np.arange(3) / 30.0).finger_rotations is None


def test_unseen_hand_holds_its_last_pose():
    a = finger_local_rotations(_flexion(30.0)[None])[0]
    b = finger_local_rotations(_flexion(60.0, 1.0)[None])[0]
    rows = finger_track(
        [None, _hands(a, (True, False)), _hands(b, (False, True)), None, _hands(IDENTITY, (False, False))]
    )
    np.testing.assert_array_equal(rows[0], IDENTITY)  # before any hand: the rest hand
    np.testing.assert_array_equal(rows[1, :15], a[:15])
    np.testing.assert_array_equal(rows[1, 15:], IDENTITY[15:])
    np.testing.assert_array_equal(rows[2, :15], a[:15])  # left unseen: held
    np.testing.assert_array_equal(rows[2, 15:], b[15:])
    np.testing.assert_array_equal(rows[3], rows[2])
    np.testing.assert_array_equal(rows[4], rows[2])


def test_finger_rotations_are_resampled_by_slerp(tmp_path):
    """Uneven frames: the finger channels are slerped to the constant rate, like the body."""
    times = np.array([0.0, 0.03, 0.1, 0.13])
    flex = np.stack([_flexion(90.0 * t / 0.13, 0.0) for t in times])
    track = body_track((t, body_at(t), _hands(q)) for t, q in zip(times, finger_local_rotations(flex)))
    _, written, _ = export_bvh(track, tmp_path / "r.bvh", fps=100.0)
    assert len(written) == 14 and written.finger_rotations.shape == (14, 30, 4)
    angle = np.degrees(Rotation.from_quat(written.finger_rotations[:, LEFT_INDEX[0]]).magnitude())
    np.testing.assert_allclose(angle, 90.0 * written.times / 0.13, atol=0.5)


def test_take_with_fingers_exports_them(tmp_path):
    """A take recorded with hands exports its fingers (and the body, as before)."""
    img = np.zeros((240, 320, 3), np.uint8)
    path = tmp_path / "h.take"
    flex = _flexion(90.0)
    with TakeWriter(path, take_header(fps=30.0, resolution=(320, 240))) as w:
        for i in range(5):
            t = i / 30.0
            p = person_at(t).with_(fingers=_hands(finger_local_rotations(flex[None])[0], (True, i != 2)))
            w.write(PoseFrame(Frame(img, t, i), (p,)))
    pid, track = take_body_track(read_take(path))
    assert pid == 0 and track.finger_rotations.shape == (5, 30, 4)
    out, written, _ = export_bvh(track, tmp_path / "h.bvh", nominal_fps=30.0)
    data = read_bvh(out)
    j = data.joints[data.index("LeftIndexProximal")]
    r = Rotation.from_euler("ZXY", data.motion[:, j.channel_start : j.channel_start + 3], degrees=True)
    np.testing.assert_allclose(np.degrees(r.magnitude()), 90.0, atol=1e-4)


def test_bad_finger_rotations_are_refused():
    q = np.tile([0, 0, 0, 1.0], (2, sk.NUM_BONES, 1))
    with pytest.raises(ValueError, match="finger"):
        skeleton_bvh_text(q, np.zeros((2, 3)), 1 / 30, finger_rotations=np.full((2, 30, 4), np.nan))
    with pytest.raises(ValueError, match="finger"):
        skeleton_bvh_text(q, np.zeros((2, 3)), 1 / 30, finger_rotations=np.zeros((2, 29, 4)))


# Blender's importer maps BVH (Y up, -Z forward) to Blender (Z up, Y forward): (x, y, z) -> (x, -z, y).
BVH_TO_BLENDER = np.array([[1.0, 0, 0], [0, 0, -1.0], [0, 1.0, 0]])


@pytest.mark.slow
def test_blender_imports_the_finger_bones(tmp_path):
    """Blender's own BVH importer makes the 30 finger bones, and after its forward kinematics
    every finger joint and fingertip lands where arpose's finger kinematics put it (1 mm)."""
    bpy = pytest.importorskip(
        "bpy", reason="bpy (Blender as a Python module) is not installed: pip install 'arpose[test]' on Python 3.11"
    )
    times = np.arange(12) / 30.0
    flex = np.stack([_flexion(90.0, t) for t in times])
    local = finger_local_rotations(flex)
    track = body_track((t, body_at(t, scale=1.1), _hands(local[k])) for k, t in enumerate(times))
    path, written, _ = export_bvh(track, tmp_path / "fingers.bvh")
    body_pos, body_rot = sk.forward_kinematics(written.local_rotations, written.root_positions, written.offsets)
    fpos, _, tips = finger_kinematics(body_pos, body_rot, written.finger_rotations, scale=1.1)
    bpy.ops.wm.read_factory_settings(use_empty=True)
    assert bpy.ops.import_anim.bvh(filepath=str(path)) == {"FINISHED"}
    arm = next(o for o in bpy.data.objects if o.type == "ARMATURE")
    assert set(b.name for b in arm.pose.bones) == set(sk.BONE_NAMES) | set(sk.FINGER_BONE_NAMES)
    worst = 0.0
    for k in (0, 5, 11):
        bpy.context.scene.frame_set(k + 1)
        for i, name in enumerate(sk.FINGER_BONE_NAMES):
            pb = arm.pose.bones[name]
            head = np.array(arm.matrix_world @ pb.head)
            worst = max(worst, np.max(np.abs(head - BVH_TO_BLENDER @ fpos[k, i])))
            tail = np.array(arm.matrix_world @ pb.tail)  # the next joint, or the fingertip
            worst = max(worst, np.max(np.abs(tail - BVH_TO_BLENDER @ tips[k, i])))
    assert worst < MM
    # the flexed left index tip hangs below its knuckle in the hand's frame in Blender too
    bpy.context.scene.frame_set(1)
    tip = np.array(arm.matrix_world @ arm.pose.bones["LeftIndexDistal"].tail)
    np.testing.assert_allclose(tip, BVH_TO_BLENDER @ tips[0, LEFT_INDEX[2]], atol=MM)
