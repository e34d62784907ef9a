"""Faces: MediaPipe's face mesh with irises (478 points) on a region around each person's head.

For each person whose pose shows the face (nose, eyes, ears, mouth: BlazePose landmarks 0-10
at :attr:`FaceConfig.min_pose_visibility`), an axis-aligned square around those points
(:func:`face_box_from_pose`: Holistic's face region from the pose, 3 times the points' extent)
is cut from the frame at between :data:`MIN_CROP` and :data:`MAX_CROP` pixels and given to
MediaPipe's ``solutions.face_mesh`` (``refine_landmarks=True``: the wheel's
``face_landmark_with_attention.tflite``, whose custom operators only MediaPipe's runtime has)
as a still: its short-range face detector finds the face inside the crop, then the mesh. The
478 points are mapped back to the frame. A face far from the camera, too small for the face
detector on the whole image, is found this way because the crop enlarges it; several people
each get their own face.

On the single-person path a frame with no body is searched whole (a face close to a webcam).

Output: ``(478, 4)`` float32 ``[x, y, z, visibility]``: x, y normalised to the frame, z the
mesh's relative depth on the scale of x (normalised by the frame width), visibility the face
detector's score (NaN rows when no face).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import numpy as np

from .._cv import cv2
from ..errors import ConfigError
from ..landmarks import NUM_FACE_LANDMARKS, empty_face
from .blazepose import _quiet_native_stderr

__all__ = ["FaceConfig", "FaceMesh", "face_box_from_pose"]

#: Pose landmarks of the face (nose, eyes, ears, mouth).
POSE_FACE = tuple(range(11))
#: Side of the square around the pose's face points, in multiples of their extent (Holistic: 3).
FACE_BOX_SCALE = 3.0
#: Crop side in pixels handed to the face mesh: the region's own size, kept within these.
MIN_CROP, MAX_CROP = 256, 576


@dataclass(frozen=True)
class FaceConfig:
    """min_presence: the face detector's minimum score in [0, 1] (MediaPipe: 0.5) inside a
    person's face region. min_bodiless_presence: the same for the whole-frame search of a frame
    with no body, where nothing else says a face is there: on the shared finger-spelling clip
    (a hand, no body) the detector scores the hand up to 0.76 and the mesh once fitted a face
    to it at 0.5, while the shared faces score 0.88 and more (docs/hands_face.md).
    min_pose_visibility: pose face points below this visibility are ignored; fewer than 3
    left means no region. single_person: search the whole frame when there is no body."""

    min_presence: float = 0.5
    min_bodiless_presence: float = 0.85
    min_pose_visibility: float = 0.5
    single_person: bool = True

    def __post_init__(self) -> None:
        for name in ("min_presence", "min_bodiless_presence", "min_pose_visibility"):
            v = getattr(self, name)
            if not (0.0 <= float(v) <= 1.0):
                raise ConfigError(f"face {name} must be in [0, 1], got {v!r}")


def face_box_from_pose(
    pose: np.ndarray, image_size: tuple[int, int], min_visibility: float = 0.5
) -> tuple[float, float, float] | None:
    """A square around the face from the pose: ``(x0, y0, side)`` in pixels (top-left corner,
    may lie partly outside the image) or None when fewer than 3 face points are seen.

    pose: ``(33, >=4)`` normalised image landmarks with visibility in column 3. The square is
    centred on the seen face points' box and its side is :data:`FACE_BOX_SCALE` times the
    box's longer side (at least the ear-to-ear span is what the points cover).
    """
    p = np.asarray(pose, dtype=np.float64)[list(POSE_FACE)]
    seen = np.isfinite(p[:, :2]).all(axis=1) & (np.nan_to_num(p[:, 3], nan=0.0) >= min_visibility)
    if seen.sum() < 3:
        return None
    px = p[seen, :2] * np.asarray(image_size, dtype=np.float64)
    lo, hi = px.min(axis=0), px.max(axis=0)
    side = FACE_BOX_SCALE * float(max(hi - lo))
    if not side > 4.0:
        return None
    cx, cy = (lo + hi) / 2.0
    return float(cx - side / 2.0), float(cy - side / 2.0), side


class FaceMesh:
    """``solutions.face_mesh`` (478 points, stills) on crops of the frame."""

    def __init__(self, config: FaceConfig = FaceConfig()) -> None:
        self.config = config
        self._mesh = self._new_mesh(config.min_presence)
        self._bodiless = None  # made on the first frame with no body
        self._quiet = [self._mesh]  # graphs that have not found a face yet

    @staticmethod
    def _new_mesh(min_presence: float):
        import mediapipe as mp

        with _quiet_native_stderr():
            mesh = mp.solutions.face_mesh.FaceMesh(
                static_image_mode=True,
                max_num_faces=1,
                refine_landmarks=True,
                min_detection_confidence=min_presence,
            )
            mesh.process(np.zeros((64, 64, 3), np.uint8))
        return mesh

    def in_box(self, rgb: np.ndarray, box: tuple[float, float, float] | None) -> np.ndarray:
        """The face inside ``box`` (``(x0, y0, side)`` pixels; None: the whole image, searched
        with ``min_bodiless_presence``) of ``rgb`` (``(H, W, 3)`` uint8 RGB): ``(478, 4)``
        float32 normalised to the whole image (NaN if none)."""
        h, w = rgb.shape[:2]
        if box is None:
            if self._bodiless is None:
                self._bodiless = self._new_mesh(self.config.min_bodiless_presence)
                self._quiet.append(self._bodiless)
            mesh = self._bodiless
            crop, x0, y0, sx, sy = rgb, 0.0, 0.0, float(w), float(h)
        else:
            mesh = self._mesh
            x0, y0, side = box
            n = int(min(max(round(side), MIN_CROP), MAX_CROP))
            k = n / side
            m = np.array([[k, 0.0, -x0 * k], [0.0, k, -y0 * k]], dtype=np.float64)
            crop = cv2.warpAffine(rgb, m, (n, n), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
            sx = sy = side
        quiet = mesh in self._quiet  # MediaPipe logs a warning on a graph's first face: kept off stderr
        with _quiet_native_stderr() if quiet else contextlib.nullcontext():
            result = mesh.process(np.ascontiguousarray(crop))
        if quiet and result.multi_face_landmarks:
            self._quiet.remove(mesh)
        out = empty_face()
        if not result.multi_face_landmarks:
            return out
        pts = np.array([[p.x, p.y, p.z] for p in result.multi_face_landmarks[0].landmark], dtype=np.float64)
        if pts.shape[0] != NUM_FACE_LANDMARKS:
            return out
        out[:, 0] = (x0 + pts[:, 0] * sx) / w
        out[:, 1] = (y0 + pts[:, 1] * sy) / h
        out[:, 2] = pts[:, 2] * sx / w
        out[:, 3] = 1.0
        return out

    def process(self, rgb: np.ndarray, poses: list[np.ndarray]) -> tuple[list[np.ndarray], np.ndarray | None]:
        """Faces of every person: ``(per_person, bodiless)``, ``per_person[i]`` the ``(478, 4)``
        face of ``poses[i]`` (``(33, 5)`` normalised pose landmarks), ``bodiless`` the face of a
        frame with no body on the single-person path (else None)."""
        size = (rgb.shape[1], rgb.shape[0])
        per_person = []
        for pose in poses:
            box = face_box_from_pose(pose, size, self.config.min_pose_visibility)
            per_person.append(self.in_box(rgb, box) if box is not None else empty_face())
        bodiless = self.in_box(rgb, None) if (self.config.single_person and not poses) else None
        return per_person, bodiless

    def close(self) -> None:
        self._mesh.close()
        if self._bodiless is not None:
            self._bodiless.close()
