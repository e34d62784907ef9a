"""The ``hands_face`` pipeline stage: fingers, hand orientation, head, eyes, jaw and
expressions for every person with ``--hands`` / ``--face``.

Per person and frame (after the ``retarget`` stage, so :class:`~arpose.retarget.BodyPose` is
known):

* **Hands** (``Person.hands``): each seen hand's 21 image landmarks as a weak-perspective shape
  (pixels x, y and the model's z on the scale of x; :func:`hand_points_from_image`) are
  retargeted by :func:`~arpose.retarget.fingers.solve_hand` into ``Person.fingers``
  (:class:`~arpose.retarget.fingers.HandsPose`). The image landmarks are used rather than the
  hand world landmarks: on the two open hands of the shared photos the world landmarks curl the
  index by 89-100 degrees, the image landmarks by 15-16 (docs/hands_face.md). When the body is
  retargeted and the hand is seen, the body's ``LeftHand`` / ``RightHand`` bone takes the hand
  model's orientation instead of the pose's index and pinky points.
* **Face** (``Person.face``): :func:`~arpose.retarget.face.solve_face` with the person's neutral
  face (:class:`~arpose.retarget.face.FaceCalibrator`, the first ``calibration_seconds`` with a
  face; :meth:`HandsFaceStage.calibrate` starts again) into ``Person.face_pose``; with a body,
  the ``Head`` bone takes the face mesh's orientation.

Frames: the body's *world* is the camera-attached rig frame (``world = MP_TO_RIG @ camera``);
the hand and face shapes are in image axes turned the same way, so their rotations are in that
*world* too (the weak-perspective shape ignores the small tilt of a viewing ray off the image
centre).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..landmarks import VISIBILITY, Side
from ..skeleton import BONE_INDEX, MP_TO_RIG, NUM_FINGER_BONES
from ..types import Person, PoseFrame
from .body import BodyPose
from .face import ExpressionConfig, FaceCalibrator, FacePose, face_points, head_rotation, solve_face
from .fingers import HandPose, HandsPose, solve_hand
from .geometry import matrices_to_quats, quats_to_matrices

__all__ = ["HandsFaceConfig", "HandsFaceStage", "hand_points_from_image", "hands_pose"]

_HAND_BONES = (BONE_INDEX["LeftHand"], BONE_INDEX["RightHand"])
_ARM_BONES = (BONE_INDEX["LeftLowerArm"], BONE_INDEX["RightLowerArm"])
_HEAD, _NECK = BONE_INDEX["Head"], BONE_INDEX["Neck"]


@dataclass(frozen=True)
class HandsFaceConfig:
    """min_hand_confidence: a hand whose model confidence (``visibility`` column) is below this
    is not retargeted. hand_orientation / head_from_face: replace the body's Hand / Head bone
    rotations with the hand model's / face mesh's when seen. calibration_seconds: seconds of
    face that make a person's neutral face (0: the population defaults).
    expressions: the expression solver's constants."""

    min_hand_confidence: float = 0.5
    hand_orientation: bool = True
    head_from_face: bool = True
    calibration_seconds: float = 2.0
    expressions: ExpressionConfig = ExpressionConfig()


def hand_points_from_image(hand: np.ndarray, image_size: tuple[int, int]) -> np.ndarray:
    """``(21, 3)`` float64 rig-axes pixels (x image right, y up, z towards the camera) of one
    hand's ``(21, >=3)`` image landmarks (x, y normalised, z on the scale of x)."""
    h = np.asarray(hand, dtype=np.float64)[:, :3]
    w, ht = float(image_size[0]), float(image_size[1])
    return (h * np.array([w, ht, w])) @ MP_TO_RIG.T


def hands_pose(hands: np.ndarray, image_size: tuple[int, int], min_confidence: float = 0.5) -> HandsPose:
    """Both hands of ``Person.hands`` ``(2, 21, 4)`` retargeted (no body needed): the 30 finger
    bones and each hand's global rotation in rig axes (the body's *world*)."""
    local = np.tile([0.0, 0.0, 0.0, 1.0], (NUM_FINGER_BONES, 1))
    seen = np.zeros(2, dtype=bool)
    per: list[HandPose | None] = [None, None]
    rotations = np.full((2, 4), np.nan)
    for side in Side:
        row = np.asarray(hands[side], dtype=np.float64)
        conf = float(row[0, VISIBILITY])
        if not (np.isfinite(row[:, :3]).all() and conf >= min_confidence):
            continue
        hp = solve_hand(hand_points_from_image(row, image_size), side, conf)
        if hp is None:
            continue
        per[side] = hp
        seen[side] = True
        local[side * 15 : side * 15 + 15] = hp.local_rotations
        rotations[side] = hp.rotation
    return HandsPose(local, seen, (per[0], per[1]), rotations)


def _with_bone(body: BodyPose, bone: int, parent: int, global_rot: np.ndarray) -> BodyPose:
    """``body`` with ``bone``'s global rotation set (its local recomputed from ``parent``'s
    global); other bones unchanged (the Hand and Head have no child bones in the body)."""
    if body.rotations is None or not np.isfinite(body.rotations[parent]).all():
        return body
    g_parent = quats_to_matrices(body.rotations[parent])
    local = matrices_to_quats(g_parent.T @ quats_to_matrices(global_rot))
    if float(np.dot(local, body.local_rotations[bone])) < 0:
        local = -local
    lr = body.local_rotations.copy()
    lr[bone] = local
    rots = body.rotations.copy()
    rots[bone] = global_rot if float(np.dot(global_rot, rots[bone])) >= 0 else -global_rot
    return replace(body, local_rotations=lr, rotations=rots)


class HandsFaceStage:
    """Pipeline stage ``"hands_face"``: ``Person.fingers`` and ``Person.face_pose`` for every
    person with hands / a face, and the body's Hand and Head bones from them. One face
    calibration per person id; ``independent_frames`` (unrelated stills) uses the population
    neutral face."""

    name = "hands_face"

    def __init__(self, config: HandsFaceConfig = HandsFaceConfig(), independent_frames: bool = False) -> None:
        self.config = config
        self.independent_frames = independent_frames
        self._calibrators: dict[int, FaceCalibrator] = {}

    def calibrate(self, person_id: int | None = None) -> None:
        """Start a new neutral-face calibration for ``person_id`` (None: everyone)."""
        for pid, cal in self._calibrators.items():
            if person_id is None or pid == person_id:
                cal.restart()

    def process(self, pose_frame: PoseFrame) -> PoseFrame:
        size = pose_frame.frame.size
        t = pose_frame.timestamp
        return pose_frame.with_people([self._person(p, size, t) for p in pose_frame.people])

    def _person(self, person: Person, size: tuple[int, int], t: float) -> Person:
        cfg = self.config
        changes: dict = {}
        body = person.body
        if person.hands is not None:
            hp = hands_pose(person.hands, size, cfg.min_hand_confidence)
            changes["fingers"] = hp
            if body is not None and cfg.hand_orientation:
                for side in Side:
                    if hp.seen[side]:
                        body = _with_bone(body, _HAND_BONES[side], _ARM_BONES[side], hp.hand_rotations[side])
        if person.face is not None:
            fp = self._face(person, size, t)
            changes["face_pose"] = fp
            if fp is not None and body is not None and cfg.head_from_face:
                body = _with_bone(body, _HEAD, _NECK, fp.head_rotation)
        if body is not person.body:
            changes["body"] = body
        return person.with_(**changes) if changes else person

    def _face(self, person: Person, size: tuple[int, int], t: float) -> FacePose | None:
        cfg = self.config
        if self.independent_frames or cfg.calibration_seconds <= 0:
            return solve_face(person.face, size, config=cfg.expressions)
        cal = self._calibrators.get(person.id)
        if cal is None:
            cal = self._calibrators[person.id] = FaceCalibrator(cfg.calibration_seconds)
        first = solve_face(person.face, size, cal.neutral, cfg.expressions, cal.calibrated)
        if first is None:
            return None
        neutral = cal.update(first.features, t)
        if cal.calibrated and not first.calibrated:  # calibrated on this very frame
            return solve_face(person.face, size, neutral, cfg.expressions, True)
        return first

    def reset(self) -> None:
        self._calibrators = {}


def head_rotation_from_face(face: np.ndarray, image_size: tuple[int, int]) -> np.ndarray | None:
    """``(4,)`` the head's global rotation ``(x, y, z, w)`` in rig axes from ``Person.face``,
    or None (a convenience for overlays)."""
    pts = face_points(face, image_size)
    if not np.isfinite(pts).all():
        return None
    r = head_rotation(pts)
    return None if r is None else matrices_to_quats(r)
