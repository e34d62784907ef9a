"""The data contract that flows through every stage of the pipeline.

``source -> estimate -> smooth -> retarget -> render / broadcast / record``

* :class:`Frame`: one image and its timestamp, as it leaves a source.
* :class:`Person`: one person's landmark arrays in one frame (see :mod:`arpose.landmarks` for
  shapes and conventions). Later stages return *new* ``Person`` objects with more fields
  filled in (``dataclasses.replace``); no stage mutates its input arrays.
* :class:`PoseFrame`: a frame plus every person found in it.
* :class:`Camera`: pinhole intrinsics in pixels (OpenCV convention).

Frames of reference
-------------------
* *Image*: pixels or normalised [0, 1], origin top-left, x right, y down.
* *MediaPipe world* (``Person.world``): metres, origin between the hips, x image-right,
  y down, z away from the camera; right-handed.
* *Camera* (root pose): OpenCV camera frame, metres, x right, y down, z forward; right-handed.
* *Rig* (skeleton, BVH): metres, right-handed, +Y up, +Z the subject's forward, +X the
  subject's left (the glTF / VRM 1.0 convention). See :mod:`arpose.skeleton`.
* Quaternions are always ``(x, y, z, w)`` (scipy's order).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any, Mapping

import numpy as np

from .errors import ConfigError


@dataclass(frozen=True)
class Frame:
    """One image from a source.

    image: ``(H, W, 3)`` uint8, **BGR** (OpenCV order).
    timestamp: seconds, strictly increasing within a source (video: container time; camera:
        monotonic clock since the source opened; image folders: ``index / fps``).
    index: 0-based position in the source.
    """

    image: np.ndarray
    timestamp: float
    index: int

    @property
    def size(self) -> tuple[int, int]:
        """``(width, height)`` in pixels."""
        h, w = self.image.shape[:2]
        return w, h


@dataclass(frozen=True)
class Person:
    """One person's pose in one frame.

    id: tracking id, stable across frames (0 for the single-person path).
    landmarks: ``(33, 5)`` float32 image landmarks ``[x, y, z, visibility, presence]``,
        x/y normalised to the image. After smoothing these are the smoothed values.
    world: ``(33, 3)`` float32 world landmarks, metres, MediaPipe world frame.
    score: overall pose confidence in [0, 1].
    mask: optional ``(H, W)`` float32 segmentation mask in [0, 1] (1 = person).
    raw_landmarks, raw_world: the estimator's unsmoothed arrays once a smoother ran
        (``None`` before), same shapes and frames as ``landmarks`` and ``world``.
    body: retargeting output (:class:`arpose.retarget.BodyPose`) or ``None``.
    angles: joint angles in degrees keyed by name (``left_elbow`` ...) or ``None``.

    Hands and face (only with ``--hands`` / ``--face``; ``None`` when not asked for, all-NaN
    arrays when asked for but not seen; conventions in :mod:`arpose.landmarks`):

    hands: ``(2, 21, 4)`` float32 image landmarks ``[x, y, z, visibility]`` of the subject's
        left (row :attr:`~arpose.landmarks.Side.LEFT`) and right hand, x/y normalised to the
        image, z the hand model's relative depth on the scale of x.
    hands_world: ``(2, 21, 3)`` float32 metres, each hand about its own centre, axes as the
        image's (x right, y down, z away from the camera).
    face: ``(478, 4)`` float32 face mesh with irises ``[x, y, z, visibility]``, normalised.
    raw_hands, raw_hands_world, raw_face: the estimator's arrays once a smoother ran.
    fingers: finger retargeting (:class:`arpose.retarget.fingers.HandsPose`) or ``None``.
    face_pose: face retargeting, head, eyes, jaw and expression weights
        (:class:`arpose.retarget.face.FacePose`) or ``None``.
    """

    id: int
    landmarks: np.ndarray
    world: np.ndarray
    score: float
    mask: np.ndarray | None = None
    raw_landmarks: np.ndarray | None = None
    raw_world: np.ndarray | None = None
    body: Any = None
    angles: Mapping[str, float] | None = None
    hands: np.ndarray | None = None
    hands_world: np.ndarray | None = None
    face: np.ndarray | None = None
    raw_hands: np.ndarray | None = None
    raw_hands_world: np.ndarray | None = None
    raw_face: np.ndarray | None = None
    fingers: Any = None
    face_pose: Any = None

    def pixels(self, width: int, height: int) -> np.ndarray:
        """``(33, 2)`` float64 image landmarks in pixels (x right, y down)."""
        return self.landmarks[:, :2].astype(np.float64) * np.array([width, height], dtype=np.float64)

    def with_(self, **changes: Any) -> "Person":
        """A copy with some fields replaced (the arrays are shared, never mutated)."""
        return replace(self, **changes)


@dataclass(frozen=True)
class PoseFrame:
    """A frame and everyone found in it. ``people`` is empty when nobody was found."""

    frame: Frame
    people: tuple[Person, ...] = field(default_factory=tuple)

    @property
    def timestamp(self) -> float:
        return self.frame.timestamp

    @property
    def index(self) -> int:
        return self.frame.index

    def with_people(self, people: tuple[Person, ...] | list[Person]) -> "PoseFrame":
        return replace(self, people=tuple(people))


@dataclass(frozen=True)
class Camera:
    """Pinhole intrinsics, OpenCV convention (pixels; principal point from the top-left).

    K = [[fx, 0, cx], [0, fy, cy], [0, 0, 1]] maps camera-frame points (x right, y down,
    z forward, metres) to pixels.
    """

    width: int
    height: int
    fx: float
    fy: float
    cx: float
    cy: float

    @classmethod
    def from_fov(cls, width: int, height: int, hfov_deg: float = 60.0) -> "Camera":
        """Square pixels, centred principal point, focal length from a horizontal field of view."""
        if not (1.0 <= hfov_deg < 179.0):
            raise ConfigError(f"field of view must be between 1 and 179 degrees, got {hfov_deg}")
        f = (width / 2.0) / math.tan(math.radians(hfov_deg) / 2.0)
        return cls(width, height, f, f, width / 2.0, height / 2.0)

    @property
    def K(self) -> np.ndarray:
        """``(3, 3)`` float64 intrinsic matrix."""
        return np.array([[self.fx, 0.0, self.cx], [0.0, self.fy, self.cy], [0.0, 0.0, 1.0]])

    @property
    def hfov_deg(self) -> float:
        return math.degrees(2.0 * math.atan(self.width / (2.0 * self.fx)))

    def project(self, points: np.ndarray) -> np.ndarray:
        """Project ``(N, 3)`` camera-frame points (metres) to ``(N, 2)`` pixels."""
        p = np.asarray(points, dtype=np.float64)
        z = p[:, 2]
        return np.stack([self.fx * p[:, 0] / z + self.cx, self.fy * p[:, 1] / z + self.cy], axis=1)
