"""Real CMU motion capture through the round trip: BVH -> our skeleton (the performer's
mapping, :mod:`arpose.performer.bvh_motion`) -> forward kinematics -> the 33 markers -> solve.

Real motion leaves the solver's joint model (spine bends, shrugs, wrist and ankle twist), so
unlike the synthetic round trip not every rotation comes back. What must come back exactly:
the direction of every limb bone, the hands, feet and head (fully observed by their
landmarks), and the elbow and knee angles. Joint positions are scored with the error the
rigid-torso model costs on these takes (median < 15 mm; see docs/retargeting.md).
"""

from __future__ import annotations

import numpy as np
import pytest

from arpose import skeleton as sk
from arpose.performer.bvh_motion import BvhMotion
from arpose.retarget import joint_angles, solve
from arpose.retarget.geometry import angle_between, geodesic_degrees

TAKES = (
    "cmu_01_01_forward_jumps_30fps.bvh",
    "cmu_12_03_walk_120fps.bvh",
    "cmu_131_01_walk_mjstyle_60fps.bvh",
    "cmu_131_03_hop_mjstyle_60fps.bvh",
    "cmu_02_05_punch_strike_ccrig_30fps.bvh",
    "cmu_05_02_dance_pirouette_ccrig_60fps.bvh",
)
B = sk.BONE_INDEX
LIMBS = [
    (f"{s}{a}", f"{s}{b}")
    for s in ("Left", "Right")
    for a, b in (("UpperArm", "LowerArm"), ("LowerArm", "Hand"), ("UpperLeg", "LowerLeg"), ("LowerLeg", "Foot"))
]
OBSERVED = [B[n] for n in ("Head", "LeftHand", "RightHand", "LeftFoot", "RightFoot")]
HINGES = ("left_elbow", "right_elbow", "left_knee", "right_knee")


@pytest.mark.parametrize("take", TAKES)
def test_cmu_take_round_trip(media, take):
    motion = BvhMotion.from_file(media / "bvh" / take)  # the CMU takes are required media: a missing one fails
    local = motion.sample(motion.frame_times()).local_rotations[::8]
    pos, rot = sk.forward_kinematics(local, np.zeros((len(local), 3)))
    markers = sk.markers_from_pose(pos, rot)
    prev, pos_err, worst_dir, worst_rot, worst_hinge = None, [], 0.0, 0.0, 0.0
    for f in range(len(local)):
        body = solve(markers[f], previous=prev)
        if prev is not None:
            assert np.all(np.sum(body.local_rotations * prev, axis=1) >= 0)  # no sign flips
        prev = body.local_rotations
        for a, b in LIMBS:
            worst_dir = max(
                worst_dir, angle_between(body.positions[B[b]] - body.positions[B[a]], pos[f, B[b]] - pos[f, B[a]])
            )
        worst_rot = max(worst_rot, geodesic_degrees(body.rotations[OBSERVED], rot[f, OBSERVED]).max())
        got = joint_angles(sk.markers_from_pose(body.positions, body.rotations))
        want = joint_angles(markers[f])
        worst_hinge = max(worst_hinge, max(abs(got[k] - want[k]) for k in HINGES))
        pos_err.append(np.linalg.norm(body.positions - pos[f], axis=1))
    pos_err = np.array(pos_err)
    assert worst_dir < 1.0 and worst_rot < 1.0 and worst_hinge < 1.0
    assert np.median(pos_err) < 0.015
    assert np.percentile(pos_err, 95) < 0.12
