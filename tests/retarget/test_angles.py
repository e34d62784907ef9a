import csv

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from arpose import skeleton as sk
from arpose.landmarks import PoseLandmark as L
from arpose.retarget import ANGLE_NAMES, AnglesCsvWriter, joint_angles

B = sk.BONE_INDEX


def _angles(**bones):
    q = np.tile([0.0, 0.0, 0.0, 1.0], (sk.NUM_BONES, 1))
    for name, (axis, deg) in bones.items():
        q[B[name]] = Rotation.from_euler(axis, deg, degrees=True).as_quat()
    pos, rot = sk.forward_kinematics(q, [0.0, 0.93, 0.0])
    return joint_angles(sk.markers_from_pose(pos, rot))


def test_t_pose_reads_straight_limbs_and_horizontal_arms():
    a = _angles()
    for name in ("left_elbow", "right_elbow", "left_knee", "right_knee", "left_hip", "right_hip"):
        assert a[name] == pytest.approx(180.0, abs=1e-6)
    assert a["left_shoulder"] == pytest.approx(90.0, abs=1e-6)
    assert a["spine_bend"] == pytest.approx(0.0, abs=1e-6) and a["spine_twist"] == pytest.approx(0.0, abs=1e-6)
    assert list(a) == list(ANGLE_NAMES)


def test_right_angle_elbow_and_knee_and_seated_hip():
    a = _angles(LeftLowerArm=("y", -90), RightUpperLeg=("x", -90), RightLowerLeg=("x", 90))
    assert a["left_elbow"] == pytest.approx(90.0, abs=1e-6)
    assert a["right_elbow"] == pytest.approx(180.0, abs=1e-6)
    assert a["right_knee"] == pytest.approx(90.0, abs=1e-6)
    assert a["right_hip"] == pytest.approx(90.0, abs=1e-6)  # thigh forward, horizontal


def test_arm_down_and_overhead_shoulder_and_a_bow():
    a = _angles(LeftUpperArm=("z", -90), RightUpperArm=("z", -90))  # left arm down, right arm up
    assert a["left_shoulder"] == pytest.approx(0.0, abs=1e-6)
    assert a["right_shoulder"] == pytest.approx(180.0, abs=1e-6)
    bow = _angles(Hips=("x", 90))  # trunk tipped forward to horizontal
    assert bow["spine_bend"] == pytest.approx(90.0, abs=1e-6)


def test_spine_twist_is_positive_when_the_shoulders_turn_to_the_subjects_left():
    a = _angles(Spine=("y", 10), Chest=("y", 10), UpperChest=("y", 10))
    assert a["spine_twist"] == pytest.approx(30.0, abs=1e-6)


def test_unseen_landmarks_give_nan():
    pos, rot = sk.rest_pose()
    vis = np.ones(33)
    vis[L.LEFT_WRIST] = 0.2
    a = joint_angles(sk.markers_from_pose(pos, rot), vis)
    assert np.isnan(a["left_elbow"]) and np.isfinite(a["right_elbow"])


def test_angles_csv_has_one_row_per_person_and_empty_fields_for_nan(tmp_path, synth, rest_local):
    person = synth.person(rest_local).with_(angles={**_angles(), "left_knee": float("nan")})
    path = tmp_path / "angles.csv"
    w = AnglesCsvWriter(path)
    w.write(synth.frame([person, person.with_(id=3)], 0.5, index=7))
    w.write(synth.frame([], 0.6, index=8))
    w.close()
    rows = list(csv.reader(path.open()))
    assert rows[0] == ["frame", "time_s", "person", *ANGLE_NAMES]
    assert len(rows) == 3 and rows[2][2] == "3"
    row = dict(zip(rows[0], rows[1]))
    assert row["frame"] == "7" and float(row["time_s"]) == 0.5
    assert float(row["left_elbow"]) == pytest.approx(180.0) and row["left_knee"] == ""
