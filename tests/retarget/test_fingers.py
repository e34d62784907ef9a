"""Known answers of the finger retargeter: hands built from the skeleton's rest data, bent by
known angles at known joints, in known orientations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from arpose.landmarks import FINGER_CHAINS, Finger, Side
from arpose.landmarks import HandLandmark as HL
from arpose.retarget.fingers import (
    JOINT_LIMITS,
    finger_curl,
    flexion_direction,
    hand_rotation,
    solve_hand,
)
from arpose.retarget.hands_face import hand_points_from_image, hands_pose
from arpose.skeleton import (
    FINGER_BONE_NAMES,
    FINGER_BONES,
    FINGER_REST_DIRECTIONS,
    NUM_FINGER_BONES,
    finger_bone_index,
)


def rest_hand(side: Side) -> np.ndarray:
    """``(21, 3)`` landmarks of the skeleton's rest hand (rig frame, wrist at the origin)."""
    pts = np.zeros((21, 3))
    for finger in Finger:
        chain = FINGER_CHAINS[finger]
        b0 = finger_bone_index(side, finger, 0)
        pts[chain[0]] = FINGER_BONES[b0].offset
        for j in range(3):
            b = finger_bone_index(side, finger, j)
            nxt = FINGER_BONES[b + 1].offset if j < 2 else FINGER_BONES[b].end
            pts[chain[j + 1]] = pts[chain[j]] + np.array(nxt)
    return pts


def bend(points: np.ndarray, side: Side, finger: Finger, joint: int, degrees: float) -> np.ndarray:
    """Flex ``finger`` at ``joint`` (0 base .. 2 end) by ``degrees`` towards the palm (the
    solver's flexion axis at rest: rest direction x flexion direction), turning every point
    beyond that joint about it."""
    p = points.copy()
    chain = FINGER_CHAINS[finger]
    b = finger_bone_index(side, finger, joint)
    axis = np.cross(FINGER_REST_DIRECTIONS[b], flexion_direction(side, finger))
    axis /= np.linalg.norm(axis)
    r = Rotation.from_rotvec(math.radians(degrees) * axis)
    pivot = p[chain[joint]]
    for k in range(joint + 1, 4):
        p[chain[k]] = pivot + r.apply(p[chain[k]] - pivot)
    return p


@pytest.mark.parametrize("side", list(Side))
def test_flat_hand_is_rest(side):
    hp = solve_hand(rest_hand(side), side)
    assert hp is not None
    np.testing.assert_allclose(hp.flexion, 0.0, atol=1e-9)
    np.testing.assert_allclose(hp.abduction, 0.0, atol=1e-9)
    np.testing.assert_allclose(np.abs(hp.local_rotations[:, 3]), 1.0, atol=1e-12)  # identity
    np.testing.assert_allclose(np.abs(hp.rotation[3]), 1.0, atol=1e-12)
    np.testing.assert_allclose(finger_curl(rest_hand(side)), 0.0, atol=1e-5)


@pytest.mark.parametrize("side", list(Side))
@pytest.mark.parametrize("finger", [Finger.INDEX, Finger.MIDDLE, Finger.RING, Finger.LITTLE])
def test_right_angle_curl_at_each_joint(side, finger):
    for joint in range(3):
        pts = bend(rest_hand(side), side, finger, joint, 90.0 if joint < 2 else 70.0)
        want = 90.0 if joint < 2 else 70.0
        hp = solve_hand(pts, side)
        assert hp.flexion[finger, joint] == pytest.approx(want, abs=1e-6)
        others = np.delete(hp.flexion.ravel(), finger * 3 + joint)
        np.testing.assert_allclose(others, 0.0, atol=1e-6)
        assert finger_curl(pts)[finger].sum() == pytest.approx(want, abs=1e-6)
        q = hp.local_rotations[finger * 3 + joint]
        assert 2 * math.degrees(math.acos(min(1.0, abs(q[3])))) == pytest.approx(want, abs=1e-6)


def test_fist_and_the_bones_reproduce_the_points():
    side = Side.LEFT
    pts = rest_hand(side)
    for finger in (Finger.INDEX, Finger.MIDDLE, Finger.RING, Finger.LITTLE):
        for joint, deg in ((0, 80.0), (1, 100.0), (2, 60.0)):
            pts = bend(pts, side, finger, joint, deg)
    hp = solve_hand(pts, side)
    np.testing.assert_allclose(hp.flexion[1:], [[80.0, 100.0, 60.0]] * 4, atol=1e-6)
    # forward kinematics of the local rotations from the hand's rest frame gives the tips back
    for finger in (Finger.INDEX, Finger.LITTLE):
        g = np.eye(3)
        p = pts[FINGER_CHAINS[finger][0]].copy()
        for j in range(3):
            b = finger_bone_index(side, finger, j)
            g = g @ Rotation.from_quat(hp.local_rotations[finger * 3 + j]).as_matrix()
            length = np.linalg.norm(pts[FINGER_CHAINS[finger][j + 1]] - pts[FINGER_CHAINS[finger][j]])
            p = p + g @ FINGER_REST_DIRECTIONS[b] * length
        np.testing.assert_allclose(p, pts[FINGER_CHAINS[finger][3]], atol=1e-9)


def test_joints_stop_at_their_limits():
    side = Side.RIGHT
    back = bend(rest_hand(side), side, Finger.INDEX, 1, -40.0)  # a middle joint bent backwards
    hp = solve_hand(back, side)
    assert hp.flexion[Finger.INDEX, 1] == JOINT_LIMITS[Finger.INDEX][1][0] == 0.0
    over = bend(rest_hand(side), side, Finger.MIDDLE, 2, 120.0)
    assert solve_hand(over, side).flexion[Finger.MIDDLE, 2] == JOINT_LIMITS[Finger.MIDDLE][2][1]
    # the curl measure has no limits: it reports what the points show
    assert finger_curl(over)[Finger.MIDDLE, 2] == pytest.approx(120.0, abs=1e-6)


def test_spread_is_abduction_towards_the_thumb():
    for side in Side:
        pts = rest_hand(side)
        chain = FINGER_CHAINS[Finger.INDEX]
        b = finger_bone_index(side, Finger.INDEX, 0)
        r = Rotation.from_rotvec(math.radians(12.0) * (1.0 if side is Side.LEFT else -1.0) * np.array([0.0, -1.0, 0.0]))
        pivot = pts[chain[0]]
        for k in (1, 2, 3):
            pts[chain[k]] = pivot + r.apply(pts[chain[k]] - pivot)
        hp = solve_hand(pts, side)
        # turning the left index about -Y (palm normal) moves it from +X towards +Z, the thumb side
        assert hp.abduction[Finger.INDEX] == pytest.approx(12.0, abs=1e-6), (side, b)
        assert hp.flexion[Finger.INDEX, 0] == pytest.approx(0.0, abs=1e-6)


def test_whole_hand_turned_keeps_the_fingers_and_gives_the_hand_rotation():
    side = Side.LEFT
    pts = bend(bend(rest_hand(side), side, Finger.RING, 1, 45.0), side, Finger.THUMB, 2, 30.0)
    turn = Rotation.from_euler("xyz", [30.0, -50.0, 70.0], degrees=True)
    hp0, hp1 = solve_hand(pts, side), solve_hand(turn.apply(pts) + [0.3, -0.2, 1.0], side)
    np.testing.assert_allclose(hp1.flexion, hp0.flexion, atol=1e-6)
    np.testing.assert_allclose(np.abs(np.sum(hp1.local_rotations * hp0.local_rotations, axis=1)), 1.0, atol=1e-9)
    np.testing.assert_allclose(hand_rotation(turn.apply(pts), side), turn.as_matrix(), atol=1e-9)


def test_nan_hand_is_not_solved():
    pts = rest_hand(Side.LEFT)
    pts[HL.INDEX_TIP] = np.nan
    assert solve_hand(pts, Side.LEFT) is None
    assert np.isnan(finger_curl(pts)[Finger.INDEX, 2])


def test_hands_pose_from_image_landmarks():
    """Both hands from Person.hands (image landmarks): the rest hand seen by a camera facing
    the subject (rig -> image axes: y down, z away), and an unseen hand left at rest."""
    size = (640, 480)
    hands = np.full((2, 21, 4), np.nan, dtype=np.float32)
    pts = bend(rest_hand(Side.RIGHT), Side.RIGHT, Finger.INDEX, 1, 90.0) * 1000.0  # pixels
    image = pts * [1.0, -1.0, -1.0] + [320.0, 240.0, 0.0]
    hands[Side.RIGHT, :, :3] = image / [640.0, 480.0, 640.0]
    hands[Side.RIGHT, :, 3] = 0.9
    np.testing.assert_allclose(hand_points_from_image(hands[Side.RIGHT], size) - [320.0, -240.0, 0.0], pts, atol=1e-3)
    hp = hands_pose(hands, size)
    assert list(hp.seen) == [False, True]
    assert hp.local_rotations.shape == (NUM_FINGER_BONES, 4) == (len(FINGER_BONE_NAMES), 4)
    np.testing.assert_allclose(hp.local_rotations[:15], np.tile([0, 0, 0, 1.0], (15, 1)))
    assert hp.hands[Side.RIGHT].flexion[Finger.INDEX, 1] == pytest.approx(90.0, abs=1e-3)
    assert np.isnan(hp.hand_rotations[Side.LEFT]).all()
    hands[Side.RIGHT, :, 3] = 0.2  # below the confidence threshold: not retargeted
    assert not hands_pose(hands, size).seen.any()
