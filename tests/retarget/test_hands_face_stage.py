"""The hands_face stage: fingers and face on people, the body's Hand and Head bones from the hand
model and the face mesh, the neutral-face calibration per person and on request."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from arpose.landmarks import Finger, Side, empty_face, empty_hands, empty_image_landmarks, empty_world_landmarks
from arpose.retarget.body import BodyPose
from arpose.retarget.face import Expression
from arpose.retarget.hands_face import HandsFaceStage
from arpose.skeleton import BONE_INDEX, NUM_BONES
from arpose.types import Frame, Person, PoseFrame

sys.path.insert(0, str(Path(__file__).parent))  # the synthetic hand and face beside this file
from test_face import SIZE, synthetic_face  # noqa: E402
from test_fingers import bend, rest_hand  # noqa: E402

IDENT = np.tile([0.0, 0.0, 0.0, 1.0], (NUM_BONES, 1))


def _body() -> BodyPose:
    return BodyPose(
        IDENT.copy(),
        np.zeros(3),
        np.zeros((NUM_BONES, 3)),
        np.zeros((NUM_BONES, 3)),
        np.ones(NUM_BONES),
        rotations=IDENT.copy(),
    )


def _image_hand(points_rig: np.ndarray) -> np.ndarray:
    """Rig-frame hand points (metres) as image landmarks of a camera facing the subject."""
    px = points_rig * 1500.0 * [1.0, -1.0, -1.0] + [700.0, 400.0, 0.0]
    out = np.empty((21, 4), dtype=np.float32)
    out[:, :3] = px / [SIZE[0], SIZE[1], SIZE[0]]
    out[:, 3] = 0.95
    return out


def _frame(person: Person, t: float = 0.0, index: int = 0) -> PoseFrame:
    return PoseFrame(Frame(np.zeros((SIZE[1], SIZE[0], 3), np.uint8), t, index), (person,))


def test_hand_and_head_bones_come_from_the_hand_model_and_the_mesh():
    turn = Rotation.from_euler("zyx", [30.0, -40.0, 10.0], degrees=True)
    pts = turn.apply(bend(rest_hand(Side.LEFT), Side.LEFT, Finger.MIDDLE, 1, 60.0))
    hands = empty_hands()
    hands[Side.LEFT] = _image_hand(pts)
    yaw = Rotation.from_euler("y", 25.0, degrees=True)
    person = Person(
        0,
        empty_image_landmarks(),
        empty_world_landmarks(),
        1.0,
        body=_body(),
        hands=hands,
        face=synthetic_face(turn=yaw),
    )
    out = HandsFaceStage().process(_frame(person)).people[0]
    assert out.fingers.seen.tolist() == [True, False]
    assert out.fingers.hands[Side.LEFT].flexion[Finger.MIDDLE, 1] == pytest.approx(60.0, abs=0.01)
    hand = Rotation.from_quat(out.body.local_rotations[BONE_INDEX["LeftHand"]])
    assert (hand * turn.inv()).magnitude() == pytest.approx(0.0, abs=1e-3)  # parent (LowerArm) at rest
    head = Rotation.from_quat(out.body.local_rotations[BONE_INDEX["Head"]])
    assert (head * yaw.inv()).magnitude() == pytest.approx(0.0, abs=1e-3)
    np.testing.assert_allclose(out.body.local_rotations[BONE_INDEX["RightHand"]], IDENT[0])  # not seen: kept
    assert person.body.local_rotations[BONE_INDEX["Head"]].tolist() == [0.0, 0.0, 0.0, 1.0]  # input untouched


def test_neutral_face_calibrates_per_person_and_on_request():
    stage = HandsFaceStage()
    narrow = synthetic_face(ear=(0.24, 0.24))
    outs = []
    for i in range(75):
        p = Person(0, empty_image_landmarks(), empty_world_landmarks(), 0.0, face=narrow)
        outs.append(stage.process(_frame(p, i / 30.0, i)).people[0].face_pose)
    assert not outs[0].calibrated and outs[0].expression(Expression.BLINK_LEFT) > 0.4
    assert outs[-1].calibrated and outs[-1].expression(Expression.BLINK_LEFT) == pytest.approx(0.0, abs=1e-4)
    stage.calibrate()
    p = Person(0, empty_image_landmarks(), empty_world_landmarks(), 0.0, face=narrow)
    assert not stage.process(_frame(p, 3.0, 90)).people[0].face_pose.calibrated
    stills = HandsFaceStage(independent_frames=True)
    for i in range(75):
        fp = stills.process(_frame(p, i / 30.0, i)).people[0].face_pose
    assert not fp.calibrated


def test_people_without_hands_or_face_pass_through():
    person = Person(0, empty_image_landmarks(), empty_world_landmarks(), 0.0)
    assert HandsFaceStage().process(_frame(person)).people[0] is person
    unseen = person.with_(hands=empty_hands(), face=empty_face())
    out = HandsFaceStage().process(_frame(unseen)).people[0]
    assert not out.fingers.seen.any() and out.face_pose is None
