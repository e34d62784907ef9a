"""The 33 BlazePose landmarks as data: names, indices, connections, left/right pairs.

Conventions
-----------
* Index order is BlazePose's (MediaPipe ``PoseLandmark``). ``LEFT_*`` always means the
  *subject's* left, never the image's left. In an unmirrored camera image a subject facing
  the camera has their left side on the image's right.
* Image landmark arrays are ``(33, 5)`` float32 with columns ``[x, y, z, visibility, presence]``:
  x and y normalised to the image width and height (0..1, origin top-left, may fall slightly
  outside), z relative depth on roughly the scale of x (smaller is nearer the camera).
* World landmark arrays are ``(33, 3)`` float32 in metres, MediaPipe's world frame: origin
  midway between the hips, x towards the image's right, y down, z away from the camera
  (right-handed).
* Missing values are NaN, never 0.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

NUM_LANDMARKS = 33

#: Column indices of an image landmark array ``(33, 5)``.
X, Y, Z, VISIBILITY, PRESENCE = range(5)


class PoseLandmark(IntEnum):
    """BlazePose landmark indices (subject's left/right)."""

    NOSE = 0
    LEFT_EYE_INNER = 1
    LEFT_EYE = 2
    LEFT_EYE_OUTER = 3
    RIGHT_EYE_INNER = 4
    RIGHT_EYE = 5
    RIGHT_EYE_OUTER = 6
    LEFT_EAR = 7
    RIGHT_EAR = 8
    MOUTH_LEFT = 9
    MOUTH_RIGHT = 10
    LEFT_SHOULDER = 11
    RIGHT_SHOULDER = 12
    LEFT_ELBOW = 13
    RIGHT_ELBOW = 14
    LEFT_WRIST = 15
    RIGHT_WRIST = 16
    LEFT_PINKY = 17
    RIGHT_PINKY = 18
    LEFT_INDEX = 19
    RIGHT_INDEX = 20
    LEFT_THUMB = 21
    RIGHT_THUMB = 22
    LEFT_HIP = 23
    RIGHT_HIP = 24
    LEFT_KNEE = 25
    RIGHT_KNEE = 26
    LEFT_ANKLE = 27
    RIGHT_ANKLE = 28
    LEFT_HEEL = 29
    RIGHT_HEEL = 30
    LEFT_FOOT_INDEX = 31
    RIGHT_FOOT_INDEX = 32

    @property
    def label(self) -> str:
        """Lower-case name used in files and streams, e.g. ``left_wrist``."""
        return self.name.lower()


L = PoseLandmark

#: ``NAMES[i]`` is the lower-case name of landmark ``i``.
NAMES: tuple[str, ...] = tuple(lm.label for lm in PoseLandmark)

#: Skeleton edges for drawing, as pairs of landmarks (same graph as MediaPipe's POSE_CONNECTIONS).
CONNECTIONS: tuple[tuple[PoseLandmark, PoseLandmark], ...] = (
    (L.NOSE, L.LEFT_EYE_INNER),
    (L.LEFT_EYE_INNER, L.LEFT_EYE),
    (L.LEFT_EYE, L.LEFT_EYE_OUTER),
    (L.LEFT_EYE_OUTER, L.LEFT_EAR),
    (L.NOSE, L.RIGHT_EYE_INNER),
    (L.RIGHT_EYE_INNER, L.RIGHT_EYE),
    (L.RIGHT_EYE, L.RIGHT_EYE_OUTER),
    (L.RIGHT_EYE_OUTER, L.RIGHT_EAR),
    (L.MOUTH_LEFT, L.MOUTH_RIGHT),
    (L.LEFT_SHOULDER, L.RIGHT_SHOULDER),
    (L.LEFT_SHOULDER, L.LEFT_ELBOW),
    (L.LEFT_ELBOW, L.LEFT_WRIST),
    (L.LEFT_WRIST, L.LEFT_PINKY),
    (L.LEFT_WRIST, L.LEFT_INDEX),
    (L.LEFT_WRIST, L.LEFT_THUMB),
    (L.LEFT_PINKY, L.LEFT_INDEX),
    (L.RIGHT_SHOULDER, L.RIGHT_ELBOW),
    (L.RIGHT_ELBOW, L.RIGHT_WRIST),
    (L.RIGHT_WRIST, L.RIGHT_PINKY),
    (L.RIGHT_WRIST, L.RIGHT_INDEX),
    (L.RIGHT_WRIST, L.RIGHT_THUMB),
    (L.RIGHT_PINKY, L.RIGHT_INDEX),
    (L.LEFT_SHOULDER, L.LEFT_HIP),
    (L.RIGHT_SHOULDER, L.RIGHT_HIP),
    (L.LEFT_HIP, L.RIGHT_HIP),
    (L.LEFT_HIP, L.LEFT_KNEE),
    (L.LEFT_KNEE, L.LEFT_ANKLE),
    (L.LEFT_ANKLE, L.LEFT_HEEL),
    (L.LEFT_HEEL, L.LEFT_FOOT_INDEX),
    (L.LEFT_ANKLE, L.LEFT_FOOT_INDEX),
    (L.RIGHT_HIP, L.RIGHT_KNEE),
    (L.RIGHT_KNEE, L.RIGHT_ANKLE),
    (L.RIGHT_ANKLE, L.RIGHT_HEEL),
    (L.RIGHT_HEEL, L.RIGHT_FOOT_INDEX),
    (L.RIGHT_ANKLE, L.RIGHT_FOOT_INDEX),
)


def _mirror_index(lm: PoseLandmark) -> PoseLandmark:
    name = lm.name
    if "LEFT" in name:
        return PoseLandmark[name.replace("LEFT", "RIGHT")]
    if "RIGHT" in name:
        return PoseLandmark[name.replace("RIGHT", "LEFT")]
    return lm


#: ``MIRROR_PERMUTATION[i]`` is the landmark that ``i`` becomes when the image is flipped
#: horizontally (subject's left and right swap roles).
MIRROR_PERMUTATION: np.ndarray = np.array([_mirror_index(lm) for lm in PoseLandmark], dtype=np.intp)

#: Landmarks that span the torso, used for the pose's size (PCK, filter scaling).
TORSO = (L.LEFT_SHOULDER, L.RIGHT_SHOULDER, L.LEFT_HIP, L.RIGHT_HIP)


def empty_image_landmarks() -> np.ndarray:
    """An all-NaN ``(33, 5)`` float32 image landmark array."""
    return np.full((NUM_LANDMARKS, 5), np.nan, dtype=np.float32)


def empty_world_landmarks() -> np.ndarray:
    """An all-NaN ``(33, 3)`` float32 world landmark array (metres)."""
    return np.full((NUM_LANDMARKS, 3), np.nan, dtype=np.float32)


def torso_size(points: np.ndarray) -> float:
    """Torso diagonal used as the pose's scale.

    points: ``(33, >=2)`` array; the first two (or three) columns are used, in whatever
    units the caller's points are (pixels, normalised, metres). Returns the mean of the two
    shoulder-to-opposite-hip distances, NaN if any torso point is NaN.
    """
    p = np.asarray(points, dtype=np.float64)[:, :2] if points.shape[1] == 5 else np.asarray(points, dtype=np.float64)
    d1 = np.linalg.norm(p[L.LEFT_SHOULDER] - p[L.RIGHT_HIP])
    d2 = np.linalg.norm(p[L.RIGHT_SHOULDER] - p[L.LEFT_HIP])
    return float((d1 + d2) / 2.0)
