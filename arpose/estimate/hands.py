"""Hands: MediaPipe's hand landmark model on regions found from the pose, tracked from frame
to frame, with a whole-image palm search for hands the pose does not place.

Per person and side (the **subject's** left and right) and frame:

1. **Region.** If this hand was found in the previous frame, its region comes from those hand
   landmarks (:func:`hand_roi_from_landmarks`: MediaPipe's hand-tracking rectangle, palm points,
   rotated so the fingers point up, scaled 2 and shifted 0.1 towards the fingers). Otherwise, if
   the pose's wrist, index and pinky are seen, from the pose (:func:`hand_roi_from_pose`,
   Holistic's ``HandDetectionsFromPoseToRectsCalculator``, scaled 2.7) refined by the wheel's
   ``hand_recrop.tflite`` (:meth:`HandModels.recrop`, Holistic's recrop step). A tracked region
   that no longer lies near the pose's hand is dropped for the pose's.
2. **Landmarks.** ``hand_landmark_full.tflite`` on the region cut to 224x224 (letterboxed,
   [0, 1] RGB): 21 image landmarks projected back to the image, 21 world landmarks rotated by
   the region's rotation (metres, about the hand's centre, image axes), the hand presence and
   the handedness score. A presence under :attr:`HandsConfig.min_presence` is no hand.
3. **Palm search.** When a hand is still missing and :attr:`HandsConfig.search_interval` has
   passed since the last search, MediaPipe's own ``solutions.hands`` (palm detector plus the
   same landmark model) runs once on the whole image (:class:`PalmSearch`); each new hand joins
   the person whose pose wrist of either side is nearest (within
   :attr:`HandsConfig.wrist_gate` hand sizes), else, on the single-person path, person 0 on
   the side its handedness gives. From then on it is tracked by step 1.

Handedness is the subject's: from the pose's wrist the region came from when there is a body,
else from the model's score through :func:`subject_side`. MediaPipe's hand model labels hands
as if the image were mirrored (a selfie view); arpose's frames are camera images as the camera
sees them, so the model's label is swapped, unless :attr:`HandsConfig.mirrored` says the input
itself is mirrored.

Models and constants: the wheel's ``modules/hand_landmark/hand_landmark_full.tflite`` and
``modules/holistic_landmark/hand_recrop.tflite``, run through ``ai_edge_litert`` (XNNPACK); the
numbers below are those of the wheel's ``holistic_landmark_cpu`` and ``hand_landmark_cpu``
graphs (docs/hands_face.md lists each with its node).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError, InputError
from ..landmarks import NUM_HAND_LANDMARKS, Side, empty_hands, empty_hands_world
from ..landmarks import HandLandmark as HL
from ..landmarks import PoseLandmark as L
from .graph import RoiOptions, TensorInput
from .roi import Roi, crop_transform, normalize_radians, project_landmarks, rotate_world, transform_roi, warp_to_tensor

__all__ = [
    "HandObservation",
    "HandModels",
    "HandTracker",
    "HandsConfig",
    "PalmSearch",
    "hand_roi_from_landmarks",
    "hand_roi_from_pose",
    "subject_side",
]

#: Model files, relative to the mediapipe package (the hand landmark model by
#: :attr:`HandsConfig.model`: ``full`` as Holistic uses, or ``lite``, about 2.5 times cheaper).
HAND_MODELS = {
    "full": "modules/hand_landmark/hand_landmark_full.tflite",
    "lite": "modules/hand_landmark/hand_landmark_lite.tflite",
}
HAND_MODEL = HAND_MODELS["full"]
RECROP_MODEL = "modules/holistic_landmark/hand_recrop.tflite"
#: ``hand_landmark_cpu``: 224x224, letterboxed, [0, 1], zero border.
HAND_INPUT = TensorInput(224, 224, True, 0.0, 1.0, "zero")
#: ``TensorsToLandmarksCalculator`` of the hand graph: z is divided by the input width and by this.
HAND_NORMALIZE_Z = 0.4
#: ``hand_recrop_by_roi_cpu``: 256x256, letterboxed, [0, 1].
RECROP_INPUT = TensorInput(256, 256, True, 0.0, 1.0, "zero")
#: Holistic's hand region from the pose, after ``HandDetectionsFromPoseToRectsCalculator``.
POSE_ROI = RoiOptions(0, 1, math.pi / 2, 2.7, 2.7, 0.0, -0.1, True)
#: The recrop model's two keypoints to a region (``AlignmentPointsRectsCalculator``, -90 deg).
RECROP_ROI = RoiOptions(0, 1, -math.pi / 2, 1.0, 1.0, 0.0, -0.1, True)
#: Hand tracking: the next region from this frame's palm landmarks.
TRACK_ROI = RoiOptions(0, 0, math.pi / 2, 2.0, 2.0, 0.0, -0.1, True)
#: Palm landmarks the tracking rectangle is fitted to (MediaPipe's ``hand_landmark_landmarks_to_roi``).
PALM_POINTS = (0, 1, 2, 3, 5, 6, 9, 10, 13, 14, 17, 18)

_SIDE_POSE = {
    Side.LEFT: (L.LEFT_WRIST, L.LEFT_INDEX, L.LEFT_PINKY),
    Side.RIGHT: (L.RIGHT_WRIST, L.RIGHT_INDEX, L.RIGHT_PINKY),
}


@dataclass(frozen=True)
class HandsConfig:
    """Settings of hand estimation.

    min_presence: in [0, 1]; the hand model's presence score must reach it (MediaPipe: 0.5).
    min_pose_visibility: in [0, 1]; the pose's wrist, index and pinky must all be at least this
        visible for a region to be placed from the pose (Holistic gates on the wrist at 0.1).
    search_interval: seconds between whole-image palm searches while a hand is missing
        (0: every such frame; ``math.inf``: never, hands come from the pose only).
    wrist_gate: a searched hand joins a person only if its wrist is within this many hand sizes
        (wrist to middle knuckle) of that person's pose wrist.
    mirrored: the input frames are mirrored (a selfie camera that flips its image); the hand
        model's handedness is then taken as it is instead of swapped. Only hands placed without
        a body use it.
    single_person: the single-person path: hands seen with no body are person 0's.
    threads: LiteRT interpreter threads per model.
    model: the hand landmark model, ``"full"`` (default, as Holistic) or ``"lite"`` (the
        wheel's smaller model: about 4 instead of 10 ms a hand on one core).
    """

    min_presence: float = 0.5
    min_pose_visibility: float = 0.3
    search_interval: float = 0.5
    wrist_gate: float = 1.5
    mirrored: bool = False
    single_person: bool = True
    threads: int = 1
    model: str = "full"

    def __post_init__(self) -> None:
        for name in ("min_presence", "min_pose_visibility"):
            v = getattr(self, name)
            if not (0.0 <= float(v) <= 1.0):
                raise ConfigError(f"hands {name} must be in [0, 1], got {v!r}")
        if not (float(self.search_interval) >= 0.0):
            raise ConfigError(f"hands search_interval must be seconds >= 0, got {self.search_interval!r}")
        if not (float(self.wrist_gate) > 0.0):
            raise ConfigError(f"hands wrist_gate must be > 0 hand sizes, got {self.wrist_gate!r}")
        if int(self.threads) < 1:
            raise ConfigError(f"hands threads must be 1 or more, got {self.threads!r}")
        if self.model not in HAND_MODELS:
            raise ConfigError(f"hands model must be one of {', '.join(HAND_MODELS)}, got {self.model!r}")


@dataclass(frozen=True)
class HandObservation:
    """One hand found in one frame.

    image: ``(21, 3)`` float32, x, y normalised to the image, z relative depth on the scale of x.
    world: ``(21, 3)`` float32 metres about the hand's centre, image axes (x right, y down, z away).
    presence: the model's hand presence score in [0, 1].
    right_score: in [0, 1], how sure the model is that this is a *geometrically* right hand
        (as the image shows it, not as a mirrored selfie would).
    roi: the region the landmarks came from.
    """

    image: np.ndarray
    world: np.ndarray
    presence: float
    right_score: float
    roi: Roi


def subject_side(right_score: float, mirrored: bool = False) -> Side:
    """The subject's side of a hand from the model's handedness.

    right_score: in [0, 1], the model's confidence that the hand *as drawn in the image* is a
        right hand (:attr:`HandObservation.right_score`). In a camera image as the camera sees
        it (``mirrored=False``) that is the subject's hand; in a mirrored image (a selfie view)
        the subject's hand is the other one.
    """
    geometric = Side.RIGHT if right_score >= 0.5 else Side.LEFT
    return geometric.other if mirrored else geometric


def hand_roi_from_pose(pose: np.ndarray, side: Side, image_size: tuple[int, int]) -> Roi:
    """Holistic's hand region from the pose (before the recrop model).

    pose: ``(33, >=2)`` normalised image landmarks; side: the subject's hand. The centre is the
    estimated middle knuckle ``(2 index + pinky) / 3``, the side of the square twice its
    distance from the wrist (pixels), rotated so the hand points up, then scaled 2.7 and shifted
    0.1 of its size towards the wrist's opposite (:data:`POSE_ROI`).
    """
    w, h = float(image_size[0]), float(image_size[1])
    wrist, index, pinky = (np.asarray(pose[int(i), :2], dtype=np.float64) * (w, h) for i in _SIDE_POSE[side])
    middle = (2.0 * index + pinky) / 3.0
    d = middle - wrist
    size = 2.0 * math.hypot(d[0], d[1])
    rotation = float(normalize_radians(math.pi / 2 - math.atan2(-d[1], d[0])))
    roi = Roi(middle[0] / w, middle[1] / h, size / w, size / h, rotation)
    return transform_roi(roi, image_size, POSE_ROI)


def hand_roi_from_landmarks(landmarks: np.ndarray, image_size: tuple[int, int]) -> Roi:
    """The next frame's region from this frame's hand landmarks (MediaPipe's hand tracking).

    landmarks: ``(21, >=2)`` normalised image landmarks of one hand. Rotation: from the wrist
    towards the mean of the middle knuckle and of the index and ring knuckles' midpoint, turned
    to point up; the rectangle bounds the palm points (:data:`PALM_POINTS`) in that rotated
    frame; then :data:`TRACK_ROI` (square, scale 2, shift 0.1 towards the fingers).
    """
    w, h = float(image_size[0]), float(image_size[1])
    p = np.asarray(landmarks, dtype=np.float64)[list(PALM_POINTS), :2]
    x0, y0 = p[0, 0] * w, p[0, 1] * h
    mid = ((p[4] + p[8]) / 2.0 + p[6]) / 2.0  # subset rows 4, 6, 8: index, middle, ring knuckles
    x1, y1 = mid[0] * w, mid[1] * h
    rotation = float(normalize_radians(math.pi / 2 - math.atan2(-(y1 - y0), x1 - x0)))
    centre = (p.max(axis=0) + p.min(axis=0)) / 2.0
    rel = (p - centre) * (w, h)
    c, s = math.cos(-rotation), math.sin(-rotation)
    proj = np.c_[rel[:, 0] * c - rel[:, 1] * s, rel[:, 0] * s + rel[:, 1] * c]
    pc = (proj.max(axis=0) + proj.min(axis=0)) / 2.0
    size = proj.max(axis=0) - proj.min(axis=0)
    cr, sr = math.cos(rotation), math.sin(rotation)
    cx = pc[0] * cr - pc[1] * sr + w * centre[0]
    cy = pc[0] * sr + pc[1] * cr + h * centre[1]
    roi = Roi(cx / w, cy / h, size[0] / w, size[1] / h, rotation)
    return transform_roi(roi, image_size, TRACK_ROI)


def _model_path(rel: str) -> str:
    import mediapipe

    path = Path(os.path.dirname(mediapipe.__file__)) / rel
    if not path.is_file():
        raise InputError(f"mediapipe's model {path} is missing; install mediapipe==0.10.21")
    return str(path)


class HandModels:
    """The hand landmark and recrop models on LiteRT (one interpreter each; not thread-safe)."""

    def __init__(self, threads: int = 1, model: str = "full") -> None:
        from ai_edge_litert.interpreter import Interpreter

        from .blazepose import _quiet_native_stderr

        with _quiet_native_stderr():
            self._hand = Interpreter(model_path=_model_path(HAND_MODELS[model]), num_threads=threads)
            self._hand.allocate_tensors()
            self._recrop = Interpreter(model_path=_model_path(RECROP_MODEL), num_threads=threads)
            self._recrop.allocate_tensors()
        self._hand_in = self._hand.get_input_details()[0]["index"]
        outs = {d["name"]: d["index"] for d in self._hand.get_output_details()}
        # hand_landmark_full: Identity landmarks (63), _1 presence, _2 handedness, _3 world (63).
        self._out = (outs["Identity"], outs["Identity_1"], outs["Identity_2"], outs["Identity_3"])
        self._recrop_in = self._recrop.get_input_details()[0]["index"]
        self._recrop_out = self._recrop.get_output_details()[0]["index"]

    def landmarks(self, rgb: np.ndarray, roi: Roi) -> HandObservation:
        """The hand model on ``roi`` of ``rgb`` (``(H, W, 3)`` uint8 RGB)."""
        size = (rgb.shape[1], rgb.shape[0])
        crop = crop_transform(roi, size, HAND_INPUT)
        tensor = warp_to_tensor(rgb, crop, HAND_INPUT).astype(np.float32) * np.float32(1.0 / 255.0)
        self._hand.set_tensor(self._hand_in, tensor[None])
        self._hand.invoke()
        lm_i, flag_i, hand_i, world_i = self._out
        raw = self._hand.get_tensor(lm_i).reshape(NUM_HAND_LANDMARKS, 3).astype(np.float32)
        raw = raw / np.float32(HAND_INPUT.width)
        raw[:, 2] /= np.float32(HAND_NORMALIZE_Z)
        image = project_landmarks(raw, roi, crop.padding)
        world = rotate_world(self._hand.get_tensor(world_i).reshape(NUM_HAND_LANDMARKS, 3), roi.rotation)
        presence = float(self._hand.get_tensor(flag_i).ravel()[0])
        # The graph's label map is "Left, Right" with binary classification: the output is the
        # score of MediaPipe's "Left", which (mirrored-image convention) is a geometric right hand.
        right = float(self._hand.get_tensor(hand_i).ravel()[0])
        return HandObservation(image, world, presence, right, roi)

    def recrop(self, rgb: np.ndarray, roi: Roi) -> Roi:
        """Holistic's recrop step: a better hand region from a rough one (pose-based)."""
        size = (rgb.shape[1], rgb.shape[0])
        crop = crop_transform(roi, size, RECROP_INPUT)
        tensor = warp_to_tensor(rgb, crop, RECROP_INPUT).astype(np.float32) * np.float32(1.0 / 255.0)
        self._recrop.set_tensor(self._recrop_in, tensor[None])
        self._recrop.invoke()
        kp = self._recrop.get_tensor(self._recrop_out).reshape(2, 2).astype(np.float32) / np.float32(RECROP_INPUT.width)
        pts = project_landmarks(np.c_[kp, np.zeros(2, np.float32)], roi, crop.padding)[:, :2]
        w, h = float(size[0]), float(size[1])
        p0, p1 = pts[0] * (w, h), pts[1] * (w, h)
        d = p1 - p0
        side = 2.0 * math.hypot(float(d[0]), float(d[1]))
        rotation = float(normalize_radians(-math.pi / 2 - math.atan2(-float(d[1]), float(d[0]))))
        out = Roi(float(p0[0]) / w, float(p0[1]) / h, side / w, side / h, rotation)
        return transform_roi(out, size, RECROP_ROI)


class PalmSearch:
    """MediaPipe's ``solutions.hands`` (palm detector + the same landmark model) on the whole
    image, as unrelated stills: hands wherever they are, no pose needed."""

    def __init__(self, max_hands: int, min_presence: float, model_complexity: int = 1) -> None:
        import mediapipe as mp

        from .blazepose import _quiet_native_stderr

        with _quiet_native_stderr():
            self._hands = mp.solutions.hands.Hands(
                static_image_mode=True,
                max_num_hands=max_hands,
                model_complexity=model_complexity,
                min_detection_confidence=min_presence,
            )
            self._hands.process(np.zeros((64, 64, 3), np.uint8))

    def find(self, rgb: np.ndarray) -> list[HandObservation]:
        """Every hand found in ``rgb`` (``(H, W, 3)`` uint8 RGB)."""
        result = self._hands.process(rgb)
        if not result.multi_hand_landmarks:
            return []
        size = (rgb.shape[1], rgb.shape[0])
        out = []
        worlds = result.multi_hand_world_landmarks or [None] * len(result.multi_hand_landmarks)
        for lms, wls, handed in zip(result.multi_hand_landmarks, worlds, result.multi_handedness):
            image = np.array([[p.x, p.y, p.z] for p in lms.landmark], dtype=np.float32)
            world = (
                np.array([[p.x, p.y, p.z] for p in wls.landmark], dtype=np.float32)
                if wls is not None
                else np.full((NUM_HAND_LANDMARKS, 3), np.nan, np.float32)
            )
            top = handed.classification[0]
            # MediaPipe's label assumes a mirrored image: its "Left" is a geometric right hand.
            right = top.score if top.label == "Left" else 1.0 - top.score
            out.append(
                HandObservation(image, world, float(top.score), float(right), hand_roi_from_landmarks(image, size))
            )
        return out

    def close(self) -> None:
        self._hands.close()


def _hand_size_px(image: np.ndarray, image_size: tuple[int, int]) -> float:
    """Wrist to middle knuckle in pixels."""
    d = (image[HL.MIDDLE_MCP, :2] - image[HL.WRIST, :2]) * np.asarray(image_size, dtype=np.float64)
    return float(math.hypot(float(d[0]), float(d[1])))


def _overlap(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over the smaller box of two hands' landmark boxes (normalised units)."""
    lo = np.maximum(a[:, :2].min(axis=0), b[:, :2].min(axis=0))
    hi = np.minimum(a[:, :2].max(axis=0), b[:, :2].max(axis=0))
    inter = float(np.prod(np.clip(hi - lo, 0.0, None)))
    area = min(
        float(np.prod(a[:, :2].max(axis=0) - a[:, :2].min(axis=0))),
        float(np.prod(b[:, :2].max(axis=0) - b[:, :2].min(axis=0))),
    )
    return inter / area if area > 0 else 0.0


@dataclass
class _Track:
    """A hand found last frame: its side, the region for this frame and the wrist it had."""

    side: Side
    roi: Roi
    wrist: np.ndarray
    size_px: float


@dataclass
class HandTracker:
    """Stateful hand estimation over a sequence (or single stills with ``tracking=False``).

    :meth:`process` takes the frame's RGB image, every person's pose image landmarks and the
    timestamp, and returns each person's ``(2, 21, 4)`` image and ``(2, 21, 3)`` world hand
    arrays (NaN where unseen) plus the hands that belong to no body (single-person path only).
    """

    config: HandsConfig = field(default_factory=HandsConfig)
    tracking: bool = True
    models: Any = None
    search: Any = None
    _tracks: list[_Track] = field(default_factory=list)
    _last_search: float = -math.inf

    def __post_init__(self) -> None:
        if self.models is None:
            self.models = HandModels(self.config.threads, self.config.model)

    def process(
        self, rgb: np.ndarray, poses: list[np.ndarray], timestamp: float
    ) -> tuple[list[tuple[np.ndarray, np.ndarray]], tuple[np.ndarray, np.ndarray] | None]:
        """Hands of every person in one frame.

        rgb: ``(H, W, 3)`` uint8 RGB. poses: each person's ``(33, 5)`` normalised pose image
        landmarks (visibility in column 3). timestamp: seconds.

        Returns ``(per_person, bodiless)``: ``per_person[i]`` is ``(hands (2, 21, 4), world
        (2, 21, 3))`` float32 for ``poses[i]``; ``bodiless`` the same for hands seen with no
        body on the single-person path when ``poses`` is empty, else None.
        """
        cfg = self.config
        size = (rgb.shape[1], rgb.shape[0])
        tracks = self._tracks if self.tracking else []
        owners = list(range(len(poses)))
        bodiless = cfg.single_person and not poses
        if bodiless:
            owners = [0]
        found: dict[tuple[int, Side], HandObservation] = {}
        for tr in tracks:  # last frame's hands first: their regions come from hand landmarks
            person = self._owner(tr, poses, size, bodiless)
            if person is None or (person, tr.side) in found:
                continue
            obs = self._accept(self.models.landmarks(rgb, tr.roi))
            if obs is not None:
                found[(person, tr.side)] = obs
        for person in range(len(poses)):  # then the pose's hands not tracked
            for side in Side:
                if (person, side) in found:
                    continue
                pose_roi = self._pose_roi(poses[person], side, size)
                if pose_roi is not None:
                    obs = self._accept(self.models.landmarks(rgb, self.models.recrop(rgb, pose_roi)))
                    if obs is not None:
                        found[(person, side)] = obs
        found = _dedupe(found)
        missing = any((p, s) not in found for p in owners for s in Side)
        due = not self.tracking or timestamp - self._last_search >= cfg.search_interval
        if missing and due and math.isfinite(cfg.search_interval):
            self._last_search = timestamp
            if self.search is None:
                self.search = PalmSearch(max(2, 2 * len(owners)), cfg.min_presence, 1 if cfg.model == "full" else 0)
            new = [o for o in self.search.find(rgb) if all(_overlap(o.image, f.image) <= 0.5 for f in found.values())]
            if bodiless:
                found.update(self._assign_bodiless(new, found))
            else:
                for obs in new:
                    slot = self._assign(obs, poses, found, size)
                    if slot is not None:
                        found[slot] = obs
        self._tracks = [
            _Track(
                side,
                hand_roi_from_landmarks(o.image, size),
                o.image[HL.WRIST, :2].astype(np.float64),
                _hand_size_px(o.image, size),
            )
            for (person, side), o in found.items()
        ]
        per_person = [_arrays(found, p) for p in range(len(poses))]
        return per_person, (_arrays(found, 0) if bodiless else None)

    def _pose_roi(self, pose: np.ndarray, side: Side, size: tuple[int, int]) -> Roi | None:
        idx = [int(i) for i in _SIDE_POSE[side]]
        vis = np.asarray(pose[idx, 3], dtype=np.float64)
        pts = np.asarray(pose[idx, :2], dtype=np.float64)
        if not (np.isfinite(pts).all() and np.all(np.nan_to_num(vis, nan=0.0) >= self.config.min_pose_visibility)):
            return None
        roi = hand_roi_from_pose(pose, side, size)
        return roi if roi.width > 0 and roi.height > 0 else None

    def _owner(self, track: _Track, poses: list[np.ndarray], size: tuple[int, int], bodiless: bool) -> int | None:
        """The person a tracked hand belongs to this frame: person 0 on the single-person path;
        with several people, the one whose pose wrist of the hand's side is nearest the hand's
        last wrist, within :attr:`HandsConfig.wrist_gate` hand sizes (else nobody)."""
        if self.config.single_person:
            return 0 if (bodiless or poses) else None
        best, best_d = None, self.config.wrist_gate
        for p, pose in enumerate(poses):
            pw = np.asarray(pose[int(_SIDE_POSE[track.side][0]), :2], dtype=np.float64) * size
            d = float(np.hypot(*(pw - track.wrist * size))) / max(track.size_px, 1.0)
            if np.isfinite(d) and d < best_d:
                best, best_d = p, d
        return best

    def _accept(self, obs: HandObservation) -> HandObservation | None:
        ok = obs.presence >= self.config.min_presence and np.isfinite(obs.image).all()
        return obs if ok else None

    def _assign(
        self,
        obs: HandObservation,
        poses: list[np.ndarray],
        found: dict[tuple[int, Side], HandObservation],
        size: tuple[int, int],
    ) -> tuple[int, Side] | None:
        """The empty (person, side) slot a searched hand belongs to, or None."""
        hand_px = max(_hand_size_px(obs.image, size), 1.0)
        wrist = obs.image[HL.WRIST, :2].astype(np.float64) * size
        best, best_d = None, self.config.wrist_gate
        for p, pose in enumerate(poses):
            for side in Side:
                if (p, side) in found:
                    continue
                pw = np.asarray(pose[int(_SIDE_POSE[side][0]), :2], dtype=np.float64) * size
                d = float(np.hypot(*(pw - wrist))) / hand_px
                if np.isfinite(d) and d < best_d:
                    best, best_d = (p, side), d
        if best is not None:
            return best
        if self.config.single_person and len(poses) == 1:
            slot = (0, subject_side(obs.right_score, self.config.mirrored))
            return slot if slot not in found else None
        return None

    def _assign_bodiless(
        self, hands: list[HandObservation], found: dict[tuple[int, Side], HandObservation]
    ) -> dict[tuple[int, Side], HandObservation]:
        """Searched hands of a frame with no body, to person 0's free sides: each by its
        handedness (:func:`subject_side`), the most confident first. Two hands of the same
        handedness (the model is wrong on one, or two people's hands) take both sides by
        position: a subject facing the camera has their left hand on the image's right (on
        the left in a mirrored image)."""
        free = [s for s in Side if (0, s) not in found]
        hands = sorted(hands, key=lambda o: -abs(o.right_score - 0.5))[: len(free)]
        sides = [subject_side(o.right_score, self.config.mirrored) for o in hands]
        if len(hands) == 2 and sides[0] == sides[1]:
            right_of_image = 0 if hands[0].image[HL.WRIST, 0] > hands[1].image[HL.WRIST, 0] else 1
            left_hand = right_of_image if not self.config.mirrored else 1 - right_of_image
            sides = [Side.LEFT if k == left_hand else Side.RIGHT for k in range(2)]
        return {(0, s): o for o, s in zip(hands, sides) if s in free}

    def reset(self) -> None:
        self._tracks = []
        self._last_search = -math.inf

    def close(self) -> None:
        if self.search is not None:
            self.search.close()
            self.search = None


def _dedupe(found: dict[tuple[int, Side], HandObservation]) -> dict[tuple[int, Side], HandObservation]:
    """Two slots on the same hand (crossed wrists, a pose side swap): keep the more present."""
    keys = sorted(found, key=lambda k: -found[k].presence)
    kept: dict[tuple[int, Side], HandObservation] = {}
    for k in keys:
        if all(_overlap(found[k].image, o.image) <= 0.5 for o in kept.values()):
            kept[k] = found[k]
    return kept


def _arrays(found: dict[tuple[int, Side], HandObservation], person: int) -> tuple[np.ndarray, np.ndarray]:
    hands, world = empty_hands(), empty_hands_world()
    for side in Side:
        obs = found.get((person, side))
        if obs is not None:
            hands[side, :, :3] = obs.image
            hands[side, :, 3] = obs.presence
            world[side] = obs.world
    return hands, world
