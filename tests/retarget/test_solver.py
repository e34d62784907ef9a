import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from arpose import skeleton as sk
from arpose.landmarks import PoseLandmark as L
from arpose.retarget.calibrate import REST_SEGMENTS, BoneCalibrator, offsets_from_segments
from arpose.retarget.geometry import geodesic_degrees
from arpose.retarget.model_poses import random_model_pose
from arpose.retarget.solver import mp_world_to_rig, solve

B = sk.BONE_INDEX


def _round_trip(local, height=1.72, root=(0.2, 0.95, -0.3)):
    offsets = sk.scaled_offsets(height)
    pos, rot = sk.forward_kinematics(local, np.asarray(root), offsets)
    markers = sk.markers_from_pose(pos, rot, scale=height / 1.72)
    return markers, pos, rot


def test_fk_round_trip_gives_back_rotations_within_1_degree_and_joints_within_1_mm():
    rng = np.random.default_rng(5)
    worst_deg, worst_mm = 0.0, 0.0
    for _ in range(100):
        q = random_model_pose(rng)
        markers, pos, rot = _round_trip(q)
        body = solve(markers)
        worst_deg = max(worst_deg, geodesic_degrees(body.local_rotations, q).max())
        worst_mm = max(worst_mm, 1000 * np.linalg.norm(body.positions - pos, axis=1).max())
        assert geodesic_degrees(body.rotations, rot).max() < 1.0
    assert worst_deg < 1.0
    assert worst_mm < 1.0


def test_calibration_recovers_a_smaller_body_and_the_round_trip_still_holds():
    rng = np.random.default_rng(6)
    cal = BoneCalibrator()
    poses = [random_model_pose(rng) for _ in range(20)]
    for k, q in enumerate(poses):
        markers, _, _ = _round_trip(q, height=1.55)
        cal.update(markers, np.ones(33), k / 30)
    assert np.allclose(cal.offsets, sk.scaled_offsets(1.55), atol=1e-6)
    for q in poses:
        markers, pos, _ = _round_trip(q, height=1.55)
        body = solve(markers, offsets=cal.offsets)
        assert geodesic_degrees(body.local_rotations, q).max() < 1.0
        assert np.linalg.norm(body.positions - pos, axis=1).max() < 1e-3


def test_calibration_is_a_robust_median_and_then_frozen():
    rng = np.random.default_rng(7)
    cal = BoneCalibrator()
    markers, _, _ = _round_trip(random_model_pose(rng))
    for k in range(40):  # 1.3 s at 30 fps, every 4th frame an outlier with a long left forearm
        m = markers.copy()
        if k % 4 == 0:
            m[L.LEFT_WRIST] += (m[L.LEFT_WRIST] - m[L.LEFT_ELBOW]) * 0.5
        cal.update(m, np.ones(33), k / 30)
    assert cal.segments["forearm"] == pytest.approx(REST_SEGMENTS["forearm"], abs=1e-6)
    cal.update(markers * 2.0, np.ones(33), 2.5)  # past the 2 s window: frozen, ignored
    assert cal.frozen and np.allclose(cal.offsets, sk.REST_OFFSETS, atol=1e-6)


def test_offsets_for_the_default_segments_are_the_skeletons():
    off, end = offsets_from_segments(REST_SEGMENTS)
    assert np.allclose(off, sk.REST_OFFSETS) and np.allclose(end, sk.END_OFFSETS, equal_nan=True)
    off, _ = offsets_from_segments({})  # nothing measured: the default body
    assert np.allclose(off, sk.REST_OFFSETS)


def test_subject_facing_the_camera_in_mediapipe_world_gives_identity_root():
    pos, rot = sk.rest_pose()
    rig = sk.markers_from_pose(pos, rot)
    mp = (rig - rig[[L.LEFT_HIP, L.RIGHT_HIP]].mean(axis=0)) @ sk.MP_TO_RIG.T
    # MediaPipe facts: the subject's left wrist is on the image's right (+x), nose up (-y), nearer (-z).
    assert mp[L.LEFT_WRIST, 0] > 0.5 and mp[L.NOSE, 1] < -0.5 and mp[L.NOSE, 2] < 0
    body = solve(mp_world_to_rig(mp))
    assert geodesic_degrees(body.local_rotations, np.tile([0, 0, 0, 1.0], (sk.NUM_BONES, 1))).max() < 1e-6


def test_turning_to_the_subjects_left_is_a_positive_yaw():
    q = np.tile([0.0, 0.0, 0.0, 1.0], (sk.NUM_BONES, 1))
    q[0] = Rotation.from_euler("y", 40, degrees=True).as_quat()
    markers, _, _ = _round_trip(q)
    assert markers[L.NOSE, 0] > 0.0  # the nose moved towards +X, the subject's left
    yaw = Rotation.from_quat(solve(markers).root_rotation).as_euler("YXZ", degrees=True)[0]
    assert yaw == pytest.approx(40.0, abs=1e-6)


def test_quaternions_stay_continuous_through_a_full_turn():
    q = np.tile([0.0, 0.0, 0.0, 1.0], (sk.NUM_BONES, 1))
    prev = None
    for deg in range(0, 721, 15):
        q[0] = Rotation.from_euler("y", deg, degrees=True).as_quat()
        q[B["LeftLowerArm"]] = Rotation.from_euler("y", -90, degrees=True).as_quat()
        body = solve(_round_trip(q)[0], previous=prev)
        if prev is not None:
            assert np.all(np.sum(body.local_rotations * prev, axis=1) > 0)
        prev = body.local_rotations


def test_invisible_arm_falls_back_to_rest_or_the_given_rotations():
    rng = np.random.default_rng(8)
    q = random_model_pose(rng)
    markers, _, _ = _round_trip(q)
    vis = np.ones(33)
    vis[[L.LEFT_ELBOW, L.LEFT_WRIST, L.LEFT_INDEX, L.LEFT_PINKY]] = 0.1
    arm = [B["LeftUpperArm"], B["LeftLowerArm"], B["LeftHand"]]
    body = solve(markers, vis)
    assert np.allclose(np.abs(body.local_rotations[arm, 3]), 1.0)
    assert body.bone_confidence[B["LeftUpperArm"]] == pytest.approx(0.1)
    held = solve(markers, vis, fallback=q)
    assert geodesic_degrees(held.local_rotations[arm], q[arm]).max() < 1e-6
    others = [i for i in range(sk.NUM_BONES) if i not in arm]
    assert geodesic_degrees(body.local_rotations[others], q[others]).max() < 1.0


def test_straight_arm_takes_its_twist_from_the_hand():
    q = np.tile([0.0, 0.0, 0.0, 1.0], (sk.NUM_BONES, 1))
    q[B["LeftUpperArm"]] = Rotation.from_euler("x", 70, degrees=True).as_quat()  # arm rolled, elbow straight
    body = solve(_round_trip(q)[0])
    assert geodesic_degrees(body.local_rotations, q).max() < 1.0


def test_solve_does_not_modify_its_inputs_and_checks_shapes():
    markers, _, _ = _round_trip(random_model_pose(np.random.default_rng(9)))
    vis = np.ones(33)
    before = markers.copy()
    solve(markers, vis)
    assert np.array_equal(markers, before) and np.all(vis == 1)
    with pytest.raises(ValueError, match=r"\(33, 3\)"):
        solve(markers[:20])


def test_nan_landmarks_give_finite_rotations():
    markers, _, _ = _round_trip(random_model_pose(np.random.default_rng(10)))
    markers[L.RIGHT_KNEE] = np.nan
    vis = np.ones(33)
    vis[L.RIGHT_KNEE] = np.nan
    body = solve(markers, vis)
    assert np.all(np.isfinite(body.local_rotations))
    assert np.allclose(np.abs(body.local_rotations[B["RightUpperLeg"], 3]), 1.0)


def test_unseen_hips_spine_and_head_without_a_fallback_keep_their_parents_orientation():
    """No fallback given: an unseen Hips is at rest (identity) and unseen spine and head bones
    take identity local rotations, each a proper rotation (was a matrix of repeated rows)."""
    markers, _, _ = _round_trip(random_model_pose(np.random.default_rng(11)))
    vis = np.zeros(33)  # nothing seen well enough: every bone falls back
    body = solve(markers, vis)
    assert np.allclose(np.abs(body.local_rotations[:, 3]), 1.0)
    assert np.allclose(np.linalg.norm(body.rotations, axis=1), 1.0)
    assert np.all(np.isfinite(body.positions))
