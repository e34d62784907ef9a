"""BVH takes drive the performer: every mapped segment points along its BVH segment."""

from __future__ import annotations

import numpy as np
import pytest

from arpose.errors import InputError
from arpose.performer import PerformerSource
from arpose.performer.bvh_motion import _CHAIN_CHILD, JOINT_MAPS, BvhMotion, detect_scheme
from arpose.record.bvh import read_bvh
from arpose.skeleton import BONE_INDEX, forward_kinematics

TAKES = {
    "cmu_01_01_forward_jumps_30fps.bvh": "cmu_motionbuilder",
    "cmu_131_01_walk_mjstyle_60fps.bvh": "cmu_3dsmax",
    "cmu_02_05_punch_strike_ccrig_30fps.bvh": "cc_base",
}


def _angle_deg(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    cos = (a * b).sum(-1) / np.linalg.norm(a, axis=-1) / np.linalg.norm(b, axis=-1)
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


@pytest.mark.parametrize("name", sorted(TAKES))
def test_segments_follow_the_take(media, name):
    m = BvhMotion.from_file(media / "bvh" / name)
    assert m.scheme == TAKES[name]
    s = m.sample(m.frame_times())
    pos, _ = forward_kinematics(s.local_rotations, np.zeros(3))
    bvh = m.bvh_positions
    checked = 0
    for bone, child in _CHAIN_CHILD.items():
        if bone == "Neck":
            continue  # the BVH neck chain has an unmapped middle joint (Neck1 / NeckTwist02)
        ours = pos[:, BONE_INDEX[child]] - pos[:, BONE_INDEX[bone]]
        theirs = m.file_to_rig.apply(bvh[:, m.joint_map[child]] - bvh[:, m.joint_map[bone]])
        if np.linalg.norm(theirs[0]) < 1e-6:
            continue  # coincident joints in the file (MotionBuilder Spine1 / Neck)
        assert _angle_deg(ours, theirs).max() < 1e-3, bone
        checked += 1
    assert checked >= 14


def test_first_frame_faces_the_camera_and_the_root_travels(media):
    path = media / "bvh" / "cmu_12_03_walk_120fps.bvh"
    fixed = BvhMotion.from_file(path)
    full = BvhMotion.from_file(path, root_motion="full")
    t = fixed.frame_times()
    s0, s1 = fixed.sample(t), full.sample(t)
    assert np.allclose(s0.root_position[:, [0, 2]], 0.0)
    travel = s1.root_position[-1, [0, 2]] - s1.root_position[0, [0, 2]]
    # CMU 12_03 walks forward steadily: about 1.2 m/s for 4.7 s, scaled to our leg length
    assert 3.0 < np.linalg.norm(travel) < 8.0
    assert np.allclose(s0.local_rotations, s1.local_rotations)
    # the hips' forward axis at frame 0 points at +Z (towards the camera once placed)
    from scipy.spatial.transform import Rotation

    fwd = Rotation.from_quat(s0.local_rotations[0, 0]).apply([0.0, 0.0, 1.0])
    assert abs(np.arctan2(fwd[0], fwd[2])) < 1e-6
    # feet stay on or above the floor; the lift is zero somewhere
    assert s0.root_position[:, 1].min() == pytest.approx(0.0, abs=1e-12)


def test_the_performer_plays_a_take(media):
    src = PerformerSource(str(media / "bvh" / "cmu_131_03_hop_mjstyle_60fps.bvh"), seconds=None, fps=10.0)
    assert src.motion.duration == pytest.approx(551 / 60.0, rel=1e-3)
    assert src.frame_count == round(src.motion.duration * 10.0)
    gt = src.truth
    # ground truth markers stay in view and the hop leaves the floor
    assert np.isfinite(gt.markers_px).all()
    assert ((gt.markers_px > 0) & (gt.markers_px < [640, 480])).all()
    assert np.ptp(gt.root_position[:, 1]) > 0.1


def test_interpolation_between_frames_is_between(media):
    m = BvhMotion.from_file(media / "bvh" / "cmu_01_01_forward_jumps_30fps.bvh")
    ft = m.data.frame_time
    a, mid, b = m.sample(np.array([10 * ft, 10.5 * ft, 11 * ft])).local_rotations
    # the halfway pose is no further from either neighbour than they are from each other
    d = lambda p, q: np.abs(np.abs((p * q).sum(-1)) - 1.0)  # noqa: E731
    assert (d(a, mid) <= d(a, b) + 1e-12).all() and (d(mid, b) <= d(a, b) + 1e-12).all()


def test_unknown_rig_names_what_is_missing(media):
    data = read_bvh(media / "bvh" / "cmu_01_01_forward_jumps_30fps.bvh")
    names = [n.replace("LeftUpLeg", "LThigh") for n in data.names]
    assert detect_scheme(data.names) == "cmu_motionbuilder"
    with pytest.raises(InputError, match="LThigh|LeftUpLeg"):
        detect_scheme(names)
    assert all(set(t) == set(BONE_INDEX) for t in JOINT_MAPS.values())
