"""Bone frames for rendering: from the retargeted body, and for a person without one the
retargeting package's own per-frame solve (known answers: random model poses, the stage)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from arpose.landmarks import PoseLandmark
from arpose.render.frames import BodyFrames
from arpose.render.overlay import _body_pose, _person_for, demo_body
from arpose.retarget import RetargetConfig, RetargetStage
from arpose.retarget.model_poses import random_model_pose
from arpose.skeleton import BONE_INDEX, NUM_BONES, forward_kinematics
from arpose.types import Camera, Frame, PoseFrame

CAM = Camera.from_fov(640, 480, 60.0)


def _posed():
    local = np.tile([0.0, 0.0, 0.0, 1.0], (NUM_BONES, 1))
    local[0] = Rotation.from_euler("y", 25, degrees=True).as_quat()
    local[BONE_INDEX["LeftUpperArm"]] = Rotation.from_euler("z", -60, degrees=True).as_quat()
    local[BONE_INDEX["RightLowerArm"]] = Rotation.from_euler("y", 40, degrees=True).as_quat()
    local[BONE_INDEX["LeftUpperLeg"]] = Rotation.from_euler("x", -30, degrees=True).as_quat()
    local[BONE_INDEX["Head"]] = Rotation.from_euler("xy", [10, 20], degrees=True).as_quat()
    return local, np.array([0.2, -0.1, -3.0])


def _bodyless(local: np.ndarray, root: np.ndarray):
    """A person (no ``body``) whose landmarks are the skeleton's markers at ``root`` (*world*),
    and the truth: joint positions ``(B, 3)`` and global rotations ``(B, 4)`` in *world*."""
    pos, rot = forward_kinematics(local, root)
    return _person_for(_body_pose(BodyFrames(pos, rot, local, 1.0)), CAM, None).with_(body=None), pos, rot


def _stage_frames(person, config: RetargetConfig = RetargetConfig()) -> BodyFrames:
    """The bones the retarget stage gives this person (their first frame)."""
    pf = PoseFrame(Frame(np.zeros((CAM.height, CAM.width, 3), np.uint8), 0.0, 0), (person,))
    return BodyFrames.from_body(RetargetStage(config, CAM).process(pf).people[0].body, person)


def _degrees(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``(B,)`` angle in degrees between rotations ``a`` and ``b`` (``(B, 4)`` ``(x, y, z, w)``)."""
    return np.degrees((Rotation.from_quat(a).inv() * Rotation.from_quat(b)).magnitude())


def test_a_person_without_body_gets_the_retarget_stages_bones_on_random_model_poses():
    rng = np.random.default_rng(15)
    for _ in range(20):
        root = np.array([rng.uniform(-0.5, 0.5), rng.uniform(-0.3, 0.3), -rng.uniform(2.5, 4.0)])
        person, pos, rot = _bodyless(random_model_pose(rng), root)
        frames = BodyFrames.from_person(person, CAM)
        ref = _stage_frames(person)
        assert _degrees(frames.rotations, ref.rotations).max() < 1e-6
        np.testing.assert_allclose(frames.positions, ref.positions, atol=1e-9)
        np.testing.assert_allclose(frames.local_rotations, ref.local_rotations, atol=1e-9)
        np.testing.assert_allclose(frames.landmarks, ref.landmarks, atol=1e-9)
        assert frames.scale == pytest.approx(ref.scale, abs=1e-12)
        # and both are the truth: noiseless markers inside the solver's model
        assert _degrees(frames.rotations, rot).max() < 1e-3
        np.testing.assert_allclose(frames.positions, pos, atol=1e-5)
        assert frames.scale == pytest.approx(1.0, abs=1e-6)


def test_the_retarget_config_is_the_stages_subject_height_scales_about_the_camera():
    local, root = _posed()
    person, pos, _ = _bodyless(local, root)
    config = RetargetConfig(subject_height=1.5)
    frames = BodyFrames.from_person(person, CAM, config)
    ref = _stage_frames(person, config)
    np.testing.assert_allclose(frames.positions, ref.positions, atol=1e-9)
    np.testing.assert_allclose(frames.positions, pos * 1.5 / 1.72, atol=1e-5)  # same pixels, nearer
    assert frames.scale == pytest.approx(1.5 / 1.72, abs=1e-6)


def test_unseen_landmarks_give_the_stages_rest_rotations_and_no_fit_gives_nothing():
    frames = demo_body()
    person = _person_for(_body_pose(frames), CAM, None).with_(body=None)
    lms = person.landmarks.copy()
    lms[[PoseLandmark.LEFT_WRIST, PoseLandmark.LEFT_ELBOW], 3] = 0.1
    seen_less = person.with_(landmarks=lms)
    out = BodyFrames.from_person(seen_less, CAM)
    ref = _stage_frames(seen_less)
    assert _degrees(out.rotations, ref.rotations).max() < 1e-6
    lower = BONE_INDEX["LeftLowerArm"]
    np.testing.assert_allclose(np.abs(out.local_rotations[lower]), [0, 0, 0, 1], atol=1e-12)  # rest
    assert _degrees(out.rotations[[BONE_INDEX["Head"]]], frames.rotations[[BONE_INDEX["Head"]]])[0] < 1e-3
    nobody = person.with_(landmarks=np.where(np.arange(5) == 3, 0.0, person.landmarks).astype(np.float32))
    none = BodyFrames.from_person(nobody, CAM)
    assert not np.isfinite(none.positions).any() and not np.isfinite(none.rotations).any()


def test_a_retargeted_body_is_used_as_it_is_and_carries_landmarks():
    local, root = _posed()
    pos, rot = forward_kinematics(local, root)
    person = _person_for(_body_pose(BodyFrames(pos, rot, local, 1.0)), CAM, None)
    turned = local.copy()
    turned[BONE_INDEX["LeftLowerArm"]] = Rotation.from_euler("y", 70, degrees=True).as_quat()
    other = person.with_(body=_body_pose(BodyFrames(*forward_kinematics(turned, root), turned, 1.0)))
    frames = BodyFrames.from_person(person, CAM)
    assert _degrees(frames.rotations, rot).max() < 1e-9
    # the body wins over the landmarks: it is not solved again
    got = BodyFrames.from_person(other, CAM).rotations[BONE_INDEX["LeftLowerArm"]]
    want = forward_kinematics(turned, root)[1][BONE_INDEX["LeftLowerArm"]]
    assert _degrees(got[None], want[None])[0] < 1e-9
    nose = frames.landmarks[PoseLandmark.NOSE]
    head = Rotation.from_quat(rot[BONE_INDEX["Head"]])
    np.testing.assert_allclose(nose, pos[BONE_INDEX["Head"]] + head.apply([0, 0, 0.105]), atol=1e-5)
