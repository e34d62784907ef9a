"""The performer's articulated hands: known-answer finger geometry, the truth against the
retargeter's convention, the rendered hand against the truth, the gestures timeline."""

from __future__ import annotations

import math

import numpy as np
import pytest

from arpose.errors import RenderError
from arpose.landmarks import Finger, Side
from arpose.landmarks import HandLandmark as HL
from arpose.performer import PerformerSource
from arpose.performer.hands import (
    GESTURE_SECONDS,
    GESTURES,
    finger_kinematics,
    finger_local_rotations,
    gestures,
    hand_landmarks,
)
from arpose.retarget.fingers import finger_curl, solve_hand
from arpose.skeleton import NUM_BONES, NUM_FINGER_BONES, rest_pose


def _hold_frame(name: str, fps: float = 30.0) -> int:
    """A frame in the middle of ``name``'s hold in the gestures motion."""
    return int(round((list(GESTURES).index(name) + 0.75) * GESTURE_SECONDS * fps))


@pytest.fixture(scope="module")
def clip():
    src = PerformerSource("gestures", seconds=6.0, fps=30.0)
    yield src
    src.close()


def test_index_knuckle_at_90_degrees_points_the_finger_into_the_palm():
    pos, rot = rest_pose()  # T-pose: left hand along +X, palm down (-Y)
    for side, sx in ((Side.LEFT, 1.0), (Side.RIGHT, -1.0)):
        flex = np.zeros((2, 5, 3))
        flex[side, Finger.INDEX, 0] = 90.0
        fp, _, tips = finger_kinematics(pos, rot, finger_local_rotations(flex))
        p = hand_landmarks(pos, fp, tips)[side]
        seg = p[HL.INDEX_TIP] - p[HL.INDEX_PIP]
        np.testing.assert_allclose(seg / np.linalg.norm(seg), [0, -1, 0], atol=1e-12)  # towards the palm
        mcp = p[HL.INDEX_PIP] - p[HL.INDEX_MCP]
        np.testing.assert_allclose(mcp / np.linalg.norm(mcp), [0, -1, 0], atol=1e-12)
        middle = p[HL.MIDDLE_TIP] - p[HL.MIDDLE_MCP]
        np.testing.assert_allclose(middle / np.linalg.norm(middle), [sx, 0, 0], atol=1e-12)  # untouched


def test_rest_fingers_make_a_flat_hand_with_the_skeletons_knuckles():
    pos, rot = rest_pose()
    fp, _, tips = finger_kinematics(pos, rot, np.tile([0.0, 0.0, 0.0, 1.0], (NUM_FINGER_BONES, 1)))
    pts = hand_landmarks(pos, fp, tips)
    for side in Side:
        np.testing.assert_allclose(finger_curl(pts[side]), 0.0, atol=1e-6)
        hand = solve_hand(pts[side], side)
        np.testing.assert_allclose(hand.flexion, 0.0, atol=1e-9)
        np.testing.assert_allclose(hand.local_rotations[:, 3], 1.0, atol=1e-12)


@pytest.mark.parametrize("name", list(GESTURES))
def test_the_truth_is_the_retargeters_convention(clip, name):
    """solve_hand on the true 3D joints gives back the commanded angles; finger_curl's bends
    add up to the commanded flexion (the thumb's base joint: its part out of the palm's plane)."""
    i = _hold_frame(name)
    gt = clip.truth
    assert gt.gestures[i] == name
    for side in Side:
        pts = gt.hand_points[i, side]
        want = gt.finger_flexion[i, side]
        hand = solve_hand(pts, side)
        np.testing.assert_allclose(hand.flexion, want, atol=1e-6)
        np.testing.assert_allclose(hand.abduction, gt.finger_abduction[i, side], atol=1e-6)
        curl = finger_curl(pts)
        np.testing.assert_allclose(curl[1:].sum(axis=1), want[1:].sum(axis=1), atol=1.0)
        np.testing.assert_allclose(curl[Finger.THUMB, 1:], want[Finger.THUMB, 1:], atol=1.0)
        if gt.finger_abduction[i, side, Finger.THUMB] == 0.0:
            # the thumb flexes halfway between the palm normal and the palm's plane
            base = math.degrees(math.asin(math.sin(math.radians(want[Finger.THUMB, 0])) / math.sqrt(2.0)))
            assert curl[Finger.THUMB, 0] == pytest.approx(base, abs=1.0)


def test_fist_and_flat_hand_known_answers(clip):
    gt = clip.truth
    fist, flat = _hold_frame("fist"), _hold_frame("open")
    for side in Side:
        np.testing.assert_allclose(gt.finger_flexion[fist, side, 1:], [[80.0, 95.0, 60.0]] * 4)
        total = finger_curl(gt.hand_points[fist, side]).sum(axis=1)
        np.testing.assert_allclose(total[1:], 235.0, atol=1.0)
        np.testing.assert_allclose(finger_curl(gt.hand_points[flat, side]), 0.0, atol=1e-6)  # spread, but flat


def test_gestures_cycle_blend_and_face_the_camera(clip):
    gt = clip.truth
    assert clip.placement.distance == 1.25 and clip.placement.camera_height == 1.45  # the motion's close-up
    names = list(dict.fromkeys(gt.gestures))
    assert names == ["open", "fist", "point", "pinch", "wave"]
    assert gt.hands_in_view.all()
    flex, abd, wrist, labels = gestures(np.array([GESTURE_SECONDS + 0.15]))  # halfway into the fist's blend
    np.testing.assert_allclose(flex[0, 0, 1], [40.0, 47.5, 30.0])
    assert labels == ("fist",)
    # the wave swings the wrist; the other gestures hold it still
    wave = np.array(gt.gestures) == "wave"
    _, _, w, _ = gestures(gt.timestamps)
    assert np.abs(w[~wave]).max() == 0.0 and np.abs(w[wave]).max() > 15.0
    # palms face the camera: the hand's palm normal (rest -Y) points to +Z (the camera) in world
    from scipy.spatial.transform import Rotation

    from arpose.skeleton import BONE_INDEX

    for bone in ("LeftHand", "RightHand"):
        n = Rotation.from_quat(gt.joint_rotations[_hold_frame("open"), BONE_INDEX[bone]]).apply([0, -1, 0])
        assert n[2] > 0.95


def test_body_motions_keep_flat_hands():
    src = PerformerSource("wave", seconds=0.5)
    gt = src.truth
    assert np.all(gt.finger_flexion == 0.0) and set(gt.gestures) == {""}
    for side in Side:
        np.testing.assert_allclose(finger_curl(gt.hand_points[3, side]), 0.0, atol=1e-6)
    assert src.placement.distance == 3.0  # the full-body view


@pytest.mark.slow
def test_rendered_hand_is_the_truths_geometry(clip):
    """Every true hand point of the fist and the point gestures projects onto the rendered
    hand (depth buffer), at or behind its visible surface; flat hands drawn in one piece per
    hand render as the same fingers posed at rest."""
    gt = clip.truth
    try:
        for name in ("fist", "point", "pinch"):
            i = _hold_frame(name)
            _, depth = clip.render(i)
            px = np.rint(gt.hand_px[i].reshape(-1, 2)).astype(int)
            cam_z = -gt.hand_points[i].reshape(-1, 3)[:, 2]  # world +Z is towards the camera
            pad = np.pad(depth, 1)
            win = np.stack([pad[px[:, 1] + dy, px[:, 0] + dx] for dy in range(3) for dx in range(3)], axis=1)
            assert (win.max(axis=1) > 0).all(), f"{name}: hand points off the hand"
            d = depth[px[:, 1], px[:, 0]]
            ok = d > 0
            assert (d[ok] <= cam_z[ok] + 0.005).all(), f"{name}: a hand point in front of the surface"
        src = PerformerSource("tpose", seconds=0.2)
        try:
            g = src.truth
            a, _ = src.render(0)  # flat hands: the merged rest hands
            rest = np.tile([0.0, 0.0, 0.0, 1.0], (NUM_FINGER_BONES, 1))
            fp, fr, _ = finger_kinematics(g.joint_positions[0], g.joint_rotations[0], rest, src.mannequin.scale)
            b, _ = src.renderer.render(g.joint_positions[0], g.joint_rotations[0], fingers=(fp, fr))
            diff = np.abs(a.astype(int) - b)
            assert (diff > 8).sum() == 0 and (diff > 2).sum() < 20
        finally:
            src.close()
    except RenderError as exc:
        pytest.skip(f"no offscreen OpenGL: {exc}")


def test_finger_parts_hang_on_finger_bones():
    from arpose.performer import build_parts

    parts = build_parts()
    fingers = [p for p in parts if p.bone >= NUM_BONES]
    assert sorted({p.bone - NUM_BONES for p in fingers}) == list(range(NUM_FINGER_BONES))
    assert not any(p.name in ("hand", "thumb") for p in parts)  # no mitten left
