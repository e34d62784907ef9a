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


# ----------------------------------------------------------------------------------------
# Hands and face (``--hands`` / ``--face``): MediaPipe's hand (21) and face mesh (478) models.
#
# * Hand arrays in :class:`arpose.types.Person`: ``hands`` ``(2, 21, 4)`` float32 image landmarks
#   ``[x, y, z, visibility]`` and ``hands_world`` ``(2, 21, 3)`` float32 metres. The first axis is
#   :class:`Side`, the **subject's** left (0) and right (1) hand, never the image's side (see
#   :func:`arpose.estimate.hands.subject_side`). x, y are normalised to the image like the body's;
#   z is the hand model's relative depth on the scale of x (smaller is nearer the camera, 0 at
#   the wrist); visibility is the hand model's confidence that the hand is there, the same for
#   its 21 rows. World landmarks: metres, origin at the hand's centre, axes like the image's
#   (x image-right, y down, z away from the camera). A hand not seen is all NaN.
# * Face array: ``face`` ``(478, 4)`` float32 ``[x, y, z, visibility]``: the 468-point face mesh
#   plus 5 points per iris (MediaPipe ``refine_landmarks``), x, y normalised, z relative depth
#   on the scale of x, visibility the face model's confidence (same for every row). Not seen:
#   all NaN. :class:`FaceLandmark` names the points the solvers use; MediaPipe's own
#   ``LEFT``/``RIGHT`` in the mesh is the subject's, as here.

NUM_HAND_LANDMARKS = 21
NUM_FACE_LANDMARKS = 478
#: Columns of hand and face image landmark arrays: x, y, z and visibility (:data:`X` ..
#: :data:`VISIBILITY`, the same positions as the body's).
HAND_COLUMNS = 4


class Side(IntEnum):
    """The subject's left and right (first axis of ``Person.hands``)."""

    LEFT = 0
    RIGHT = 1

    @property
    def label(self) -> str:
        """``"left"`` / ``"right"``."""
        return self.name.lower()

    @property
    def bone_prefix(self) -> str:
        """``"Left"`` / ``"Right"``: the humanoid bone name prefix."""
        return self.name.capitalize()

    @property
    def other(self) -> "Side":
        return Side(1 - int(self))


class HandLandmark(IntEnum):
    """MediaPipe hand landmark indices (one hand; the side is :class:`Side`)."""

    WRIST = 0
    THUMB_CMC = 1
    THUMB_MCP = 2
    THUMB_IP = 3
    THUMB_TIP = 4
    INDEX_MCP = 5
    INDEX_PIP = 6
    INDEX_DIP = 7
    INDEX_TIP = 8
    MIDDLE_MCP = 9
    MIDDLE_PIP = 10
    MIDDLE_DIP = 11
    MIDDLE_TIP = 12
    RING_MCP = 13
    RING_PIP = 14
    RING_DIP = 15
    RING_TIP = 16
    PINKY_MCP = 17
    PINKY_PIP = 18
    PINKY_DIP = 19
    PINKY_TIP = 20

    @property
    def label(self) -> str:
        return self.name.lower()


class Finger(IntEnum):
    """The five fingers; ``LITTLE`` is the pinky (humanoid ``Little``)."""

    THUMB = 0
    INDEX = 1
    MIDDLE = 2
    RING = 3
    LITTLE = 4

    @property
    def bone_name(self) -> str:
        """``Thumb``, ``Index``, ``Middle``, ``Ring``, ``Little`` (humanoid bone names)."""
        return self.name.capitalize()


H = HandLandmark

#: ``FINGER_CHAINS[f]``: the four landmarks along finger ``f`` from its base joint to its tip:
#: thumb CMC, MCP, IP, TIP; the others MCP, PIP, DIP, TIP. Three segments, three joints.
FINGER_CHAINS: tuple[tuple[HandLandmark, HandLandmark, HandLandmark, HandLandmark], ...] = (
    (H.THUMB_CMC, H.THUMB_MCP, H.THUMB_IP, H.THUMB_TIP),
    (H.INDEX_MCP, H.INDEX_PIP, H.INDEX_DIP, H.INDEX_TIP),
    (H.MIDDLE_MCP, H.MIDDLE_PIP, H.MIDDLE_DIP, H.MIDDLE_TIP),
    (H.RING_MCP, H.RING_PIP, H.RING_DIP, H.RING_TIP),
    (H.PINKY_MCP, H.PINKY_PIP, H.PINKY_DIP, H.PINKY_TIP),
)

#: Hand edges for drawing (MediaPipe's HAND_CONNECTIONS).
HAND_CONNECTIONS: tuple[tuple[HandLandmark, HandLandmark], ...] = (
    (H.WRIST, H.THUMB_CMC),
    (H.WRIST, H.INDEX_MCP),
    (H.INDEX_MCP, H.MIDDLE_MCP),
    (H.MIDDLE_MCP, H.RING_MCP),
    (H.RING_MCP, H.PINKY_MCP),
    (H.WRIST, H.PINKY_MCP),
) + tuple((a, b) for chain in FINGER_CHAINS for a, b in zip(chain[:-1], chain[1:]))


class FaceLandmark(IntEnum):
    """Named points of MediaPipe's 478-point face mesh (subject's left/right) that arpose's
    face solvers use. The other mesh indices have no names (MediaPipe's canonical mesh)."""

    FOREHEAD = 10
    NOSE_BRIDGE = 168
    NOSE_TIP = 1
    CHIN = 152
    RIGHT_CHEEK = 234
    LEFT_CHEEK = 454
    RIGHT_EYE_OUTER = 33
    RIGHT_EYE_INNER = 133
    RIGHT_EYE_UPPER = 159
    RIGHT_EYE_LOWER = 145
    RIGHT_EYE_UPPER_OUTER = 160
    RIGHT_EYE_LOWER_OUTER = 144
    RIGHT_EYE_UPPER_INNER = 158
    RIGHT_EYE_LOWER_INNER = 153
    LEFT_EYE_OUTER = 263
    LEFT_EYE_INNER = 362
    LEFT_EYE_UPPER = 386
    LEFT_EYE_LOWER = 374
    LEFT_EYE_UPPER_OUTER = 387
    LEFT_EYE_LOWER_OUTER = 373
    LEFT_EYE_UPPER_INNER = 385
    LEFT_EYE_LOWER_INNER = 380
    RIGHT_BROW_INNER = 107
    RIGHT_BROW_MID = 105
    RIGHT_BROW_OUTER = 70
    LEFT_BROW_INNER = 336
    LEFT_BROW_MID = 334
    LEFT_BROW_OUTER = 300
    MOUTH_RIGHT = 61
    MOUTH_LEFT = 291
    UPPER_LIP_OUTER = 0
    LOWER_LIP_OUTER = 17
    UPPER_LIP_INNER = 13
    LOWER_LIP_INNER = 14
    RIGHT_IRIS = 468
    LEFT_IRIS = 473


#: ``(5,)`` indices of each iris (centre first, then four points on its rim), by :class:`Side`.
IRIS_POINTS: tuple[tuple[int, ...], tuple[int, ...]] = (tuple(range(473, 478)), tuple(range(468, 473)))


def empty_hands() -> np.ndarray:
    """All-NaN ``(2, 21, 4)`` float32 hand image landmarks (neither hand seen)."""
    return np.full((2, NUM_HAND_LANDMARKS, HAND_COLUMNS), np.nan, dtype=np.float32)


def empty_hands_world() -> np.ndarray:
    """All-NaN ``(2, 21, 3)`` float32 hand world landmarks (metres)."""
    return np.full((2, NUM_HAND_LANDMARKS, 3), np.nan, dtype=np.float32)


def empty_face() -> np.ndarray:
    """All-NaN ``(478, 4)`` float32 face image landmarks."""
    return np.full((NUM_FACE_LANDMARKS, HAND_COLUMNS), np.nan, dtype=np.float32)
