"""Synthetic takes for the record tests: analytic body poses built with the skeleton's own
forward kinematics (the retargeting solver is not needed), landmarks with NaN gaps."""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from arpose import skeleton as sk
from arpose.retarget.body import BodyPose
from arpose.types import Camera, Frame, Person, PoseFrame

CAMERA = Camera.from_fov(320, 240, 60.0)


def body_at(t: float, person: int = 0, scale: float = 1.0) -> BodyPose:
    """A smooth analytic motion: arms and legs swinging, the root walking and turning."""
    rv = np.zeros((sk.NUM_BONES, 3))
    rv[0] = (0.0, 0.6 * np.sin(0.5 * t), 0.0)  # turning about Y
    for name, axis, amp, ph in (
        ("LeftUpperArm", 2, 1.0, 0.0),
        ("RightUpperArm", 2, -1.0, 0.3),
        ("LeftLowerArm", 1, 0.8, 1.0),
        ("RightLowerArm", 1, -0.8, 1.3),
        ("LeftUpperLeg", 0, 0.6, 0.0),
        ("RightUpperLeg", 0, -0.6, 0.0),
        ("LeftLowerLeg", 0, 0.5, 0.5),
        ("Spine", 0, 0.2, 0.2),
        ("Head", 1, 0.7, 0.9),
    ):
        rv[sk.BONE_INDEX[name], axis] = amp * np.sin(2.0 * t + ph + person)
    q = Rotation.from_rotvec(rv).as_quat()
    root = np.array([0.3 * np.sin(t) + person, 0.1 * np.cos(3 * t), -3.0 + 0.2 * t])
    offsets = sk.REST_OFFSETS * scale
    pos, _ = sk.forward_kinematics(q, root, offsets)
    return BodyPose(
        local_rotations=q,
        root_position=root,
        positions=pos,
        offsets=offsets,
        bone_confidence=np.linspace(0.5, 1.0, sk.NUM_BONES),
        reprojection_error_px=1.5,
        foot_contact=np.array([True, False]),
        floor_height=float("nan"),
    )


def person_at(t: float, pid: int = 0, body: bool = True, angles: bool = True, raw: bool = True) -> Person:
    rng = np.random.default_rng(int(t * 1000) + pid)
    lm = rng.random((33, 5)).astype(np.float32)
    lm[5:8] = np.nan  # missing landmarks stay NaN
    lm[:, 4] = np.nan
    world = rng.normal(scale=0.5, size=(33, 3)).astype(np.float32)
    world[7] = np.nan
    return Person(
        id=pid,
        landmarks=lm,
        world=world,
        score=0.9,
        raw_landmarks=(lm + 0.01).astype(np.float32) if raw else None,
        raw_world=(world - 0.01).astype(np.float32) if raw else None,
        body=body_at(t, pid) if body else None,
        angles={"left_elbow": 90.0 + 10 * np.sin(t), "right_knee": float("nan")} if angles else None,
    )


def pose_frames(times, people=(0,), body=True, image_size=(320, 240)):
    img = np.zeros((image_size[1], image_size[0], 3), np.uint8)
    out = []
    for i, t in enumerate(times):
        ppl = tuple(person_at(t, pid, body=body) for pid in people) if i % 7 != 3 else ()
        out.append(PoseFrame(Frame(img, float(t), i), ppl))
    return out


def hands_face_person(t: float, pid: int = 0, right_seen: bool = False, body: bool = True) -> Person:
    """:func:`person_at` with hands and a face: known random arrays (float32 landmarks, float64
    rotations), the subject's left hand seen and the right one not (all NaN, no ``HandPose``)
    unless ``right_seen``, a face with expressions and features. Not anatomical: for round trips."""
    from arpose.landmarks import Side
    from arpose.retarget.face import FaceFeatures, FacePose
    from arpose.retarget.fingers import HandPose, HandsPose

    rng = np.random.default_rng(int(t * 1000) + 77 * pid)
    hands = rng.random((2, 21, 4)).astype(np.float32)
    world = rng.normal(scale=0.05, size=(2, 21, 3)).astype(np.float32)
    local = np.tile([0.0, 0.0, 0.0, 1.0], (sk.NUM_FINGER_BONES, 1))
    local[:15] = Rotation.from_rotvec(rng.normal(scale=0.5, size=(15, 3))).as_quat()
    left = HandPose(
        side=Side.LEFT,
        rotation=Rotation.from_rotvec(rng.normal(size=3)).as_quat(),
        local_rotations=local[:15].copy(),
        flexion=rng.uniform(0, 90, (5, 3)),
        abduction=rng.uniform(-20, 20, 5),
        curl=rng.uniform(0, 200, 5),
        confidence=float(rng.random()),
    )
    rot = np.full((2, 4), np.nan)
    rot[0] = left.rotation
    per = [left, None]
    if right_seen:
        local[15:] = Rotation.from_rotvec(rng.normal(scale=0.5, size=(15, 3))).as_quat()
        per[1] = HandPose(Side.RIGHT, rot[0].copy(), local[15:].copy(), left.flexion, left.abduction, left.curl, 0.9)
        rot[1] = rot[0]
    else:
        hands[1] = np.nan
        world[1] = np.nan
    fingers = HandsPose(local, np.array([True, right_seen]), (per[0], per[1]), rot)
    face = rng.random((478, 4)).astype(np.float32)
    feats = FaceFeatures(
        ear=rng.random(2),
        mouth_gap=float(rng.random()),
        mouth_width=0.8,
        smile_lift=float("nan"),
        brow=rng.random(2),
        gaze=rng.normal(size=(2, 2)),
        iod_px=61.5,
    )
    fp = FacePose(
        head_rotation=Rotation.from_rotvec(rng.normal(scale=0.3, size=3)).as_quat(),
        eye_rotations=Rotation.from_rotvec(rng.normal(scale=0.2, size=(2, 3))).as_quat(),
        jaw=float(rng.random()),
        expressions=rng.random(11),
        features=feats,
        calibrated=bool(t > 0.05),
    )
    base = person_at(t, pid, body=body)
    return base.with_(
        hands=hands,
        hands_world=world,
        face=face,
        raw_hands=(hands + np.float32(0.001)).astype(np.float32),
        raw_hands_world=world.copy(),
        raw_face=(face - np.float32(0.001)).astype(np.float32),
        fingers=fingers,
        face_pose=fp,
    )
