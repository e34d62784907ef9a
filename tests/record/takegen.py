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
