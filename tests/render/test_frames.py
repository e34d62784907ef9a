"""Bone frames for rendering: from the retargeted body and from landmarks (known answers)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from arpose.landmarks import PoseLandmark
from arpose.render.frames import BodyFrames, fit_translation, local_from_global
from arpose.render.overlay import _body_pose, _person_for, demo_body
from arpose.skeleton import BONE_INDEX, MP_TO_RIG, NUM_BONES, forward_kinematics
from arpose.types import Camera

CAM = Camera.from_fov(640, 480, 60.0)


def _posed():
    local = np.tile([0.0, 0.0, 0.0, 1.0], (NUM_BONES, 1))
    local[0] = Rotation.from_euler("y", 25, degrees=True).as_quat()
    local[BONE_INDEX["LeftUpperArm"]] = Rotation.from_euler("z", -60, degrees=True).as_quat()
    local[BONE_INDEX["RightLowerArm"]] = Rotation.from_euler("y", 40, degrees=True).as_quat()
    local[BONE_INDEX["LeftUpperLeg"]] = Rotation.from_euler("x", -30, degrees=True).as_quat()
    local[BONE_INDEX["Head"]] = Rotation.from_euler("xy", [10, 20], degrees=True).as_quat()
    return local, np.array([0.2, -0.1, -3.0])


def test_fit_translation_is_exact_on_a_projected_body():
    local, root = _posed()
    body = _body_pose(BodyFrames(*forward_kinematics(local, root), local, 1.0))
    person = _person_for(body, CAM, None)
    t = fit_translation(person.world.astype(np.float64), person.pixels(640, 480), CAM, np.ones(33))
    np.testing.assert_allclose(t, MP_TO_RIG @ root, atol=1e-5)  # the hips in the OpenCV camera frame
    assert fit_translation(person.world, person.pixels(640, 480), CAM, np.zeros(33)) is None


def test_landmark_fallback_recovers_the_skeleton_pose():
    local, root = _posed()
    pos, rot = forward_kinematics(local, root)
    person = _person_for(_body_pose(BodyFrames(pos, rot, local, 1.0)), CAM, None).with_(body=None)
    frames = BodyFrames.from_person(person, CAM)
    assert frames.source == "landmarks"
    np.testing.assert_allclose(frames.positions, pos, atol=1e-4)
    err = (Rotation.from_quat(frames.rotations).inv() * Rotation.from_quat(rot)).magnitude()
    neck = BONE_INDEX["Neck"]  # the neck takes the ear line, which the head turned
    assert np.degrees(np.delete(err, neck)).max() < 0.1
    assert frames.scale == pytest.approx(1.0, abs=1e-4)


def test_body_source_is_forward_kinematics_and_carries_landmarks():
    local, root = _posed()
    pos, rot = forward_kinematics(local, root)
    person = _person_for(_body_pose(BodyFrames(pos, rot, local, 1.0)), CAM, None)
    frames = BodyFrames.from_person(person, CAM)
    assert frames.source == "body"
    err = (Rotation.from_quat(frames.rotations).inv() * Rotation.from_quat(rot)).magnitude()
    assert err.max() < 1e-9
    nose = frames.landmarks[PoseLandmark.NOSE]
    head = Rotation.from_quat(rot[BONE_INDEX["Head"]])
    np.testing.assert_allclose(nose, pos[BONE_INDEX["Head"]] + head.apply([0, 0, 0.105]), atol=1e-5)


def test_invisible_landmarks_leave_their_bones_unknown():
    frames = demo_body()
    person = _person_for(_body_pose(frames), CAM, None).with_(body=None)
    lms = person.landmarks.copy()
    lms[[PoseLandmark.LEFT_WRIST, PoseLandmark.LEFT_ELBOW], 3] = 0.1
    out = BodyFrames.from_person(person.with_(landmarks=lms), CAM)
    assert not out.valid(BONE_INDEX["LeftHand"]) and not out.valid(BONE_INDEX["LeftLowerArm"])
    assert out.valid(BONE_INDEX["Head"]) and out.valid(BONE_INDEX["RightHand"])
    nobody = person.with_(landmarks=np.where(np.arange(5) == 3, 0.0, person.landmarks).astype(np.float32))
    assert not np.isfinite(BodyFrames.from_person(nobody, CAM).positions).any()


def test_local_from_global_round_trips_forward_kinematics():
    local, root = _posed()
    _, rot = forward_kinematics(local, root)
    back = local_from_global(rot)
    np.testing.assert_allclose(np.abs(np.sum(back * local, axis=1)), 1.0, atol=1e-9)
