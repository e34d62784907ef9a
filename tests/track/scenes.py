"""Synthetic people for tracker tests: a stick figure of the 33 BlazePose landmarks placed,
scaled and moved in the image, with known identities."""

from __future__ import annotations

import numpy as np

from arpose.landmarks import NUM_LANDMARKS
from arpose.landmarks import PoseLandmark as L
from arpose.types import Frame, Person, PoseFrame

W, H = 640, 480

#: Body-relative (x right, y down) positions in body heights, origin at the hip centre.
_TEMPLATE = {
    L.NOSE: (0.0, -0.45),
    L.LEFT_EYE_INNER: (0.01, -0.47),
    L.LEFT_EYE: (0.02, -0.47),
    L.LEFT_EYE_OUTER: (0.03, -0.47),
    L.RIGHT_EYE_INNER: (-0.01, -0.47),
    L.RIGHT_EYE: (-0.02, -0.47),
    L.RIGHT_EYE_OUTER: (-0.03, -0.47),
    L.LEFT_EAR: (0.05, -0.46),
    L.RIGHT_EAR: (-0.05, -0.46),
    L.MOUTH_LEFT: (0.015, -0.42),
    L.MOUTH_RIGHT: (-0.015, -0.42),
    L.LEFT_SHOULDER: (0.11, -0.32),
    L.RIGHT_SHOULDER: (-0.11, -0.32),
    L.LEFT_ELBOW: (0.14, -0.15),
    L.RIGHT_ELBOW: (-0.14, -0.15),
    L.LEFT_WRIST: (0.15, 0.0),
    L.RIGHT_WRIST: (-0.15, 0.0),
    L.LEFT_PINKY: (0.16, 0.03),
    L.RIGHT_PINKY: (-0.16, 0.03),
    L.LEFT_INDEX: (0.155, 0.035),
    L.RIGHT_INDEX: (-0.155, 0.035),
    L.LEFT_THUMB: (0.14, 0.025),
    L.RIGHT_THUMB: (-0.14, 0.025),
    L.LEFT_HIP: (0.07, 0.0),
    L.RIGHT_HIP: (-0.07, 0.0),
    L.LEFT_KNEE: (0.075, 0.25),
    L.RIGHT_KNEE: (-0.075, 0.25),
    L.LEFT_ANKLE: (0.08, 0.48),
    L.RIGHT_ANKLE: (-0.08, 0.48),
    L.LEFT_HEEL: (0.075, 0.5),
    L.RIGHT_HEEL: (-0.085, 0.5),
    L.LEFT_FOOT_INDEX: (0.1, 0.52),
    L.RIGHT_FOOT_INDEX: (-0.1, 0.52),
}
TEMPLATE = np.array([_TEMPLATE[L(i)] for i in range(NUM_LANDMARKS)], dtype=np.float64)


def person_at(
    cx: float, cy: float, height: float, rng: np.random.Generator | None = None, noise_px: float = 0.0, pid: int = -1
) -> Person:
    """A stick figure with its hip centre at pixel ``(cx, cy)``, ``height`` pixels tall."""
    px = TEMPLATE * height + (cx, cy)
    if rng is not None and noise_px > 0:
        px = px + rng.normal(0.0, noise_px, px.shape)
    lm = np.ones((NUM_LANDMARKS, 5), np.float32)
    lm[:, 0] = px[:, 0] / W
    lm[:, 1] = px[:, 1] / H
    lm[:, 2] = 0.0
    world = (TEMPLATE * 1.7).astype(np.float32)
    world = np.concatenate([world, np.zeros((NUM_LANDMARKS, 1), np.float32)], axis=1)
    return Person(id=pid, landmarks=lm, world=world, score=1.0)


def pose_frame(people, t: float, index: int) -> PoseFrame:
    return PoseFrame(frame=Frame(np.zeros((H, W, 3), np.uint8), t, index), people=tuple(people))
