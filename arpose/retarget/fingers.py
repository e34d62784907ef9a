"""Hand landmarks to the 30 humanoid finger bones and the hand's orientation (pure).

Frames and conventions
----------------------
* Input: one hand's 21 points ``(21, 3)`` in the **rig frame** (right-handed, +Y up; for
  MediaPipe hand world landmarks, which have image axes, ``points = world @ MP_TO_RIG.T``,
  :func:`hand_points_to_rig`), the side being the subject's (:class:`arpose.landmarks.Side`).
* Rest (identity local rotations) is the T-pose open hand of :mod:`arpose.skeleton`: palm down
  (-Y), fingers straight along +X (left hand) / -X (right), thumb forward and out at 45 degrees
  in the palm's plane.
* The **hand frame** (:func:`hand_rotation`): the fingers' direction is wrist -> middle
  knuckle; the thumb side is pinky knuckle -> index knuckle; the palm normal completes them
  (pointing out of the palm). Its rotation from rest is the Hand bone's global rotation.
* Each finger bone's local rotation is relative to its parent (the Hand bone or the previous
  phalanx) and has no twist: a **flexion** (towards the palm, positive) about the axis
  ``rest direction x flexion direction``, and at the base joints an **abduction** about the
  flexion direction (positive towards the thumb). ``local = R(abduction) @ R(flexion)``.
  The flexion direction is the palm normal for the four fingers and, for the thumb (whose
  nail faces sideways), halfway between the palm normal and the palm's plane towards the
  little finger.
* Joint angles are clamped to :data:`JOINT_LIMITS` (degrees): the middle and end joints of the
  fingers and the thumb's two outer joints are hinges (no abduction); the knuckles (MCP) and the
  thumb's base (CMC) also spread.
* Quaternions are ``(x, y, z, w)``.

:func:`finger_curl` is the anatomy-free measure used for evidence: the bend at each joint from
the points alone (the base joint's out of the palm's plane, the others between segments; 0 for
a flat hand).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..landmarks import FINGER_CHAINS, Finger, Side
from ..landmarks import HandLandmark as HL
from ..skeleton import FINGER_REST_DIRECTIONS, MP_TO_RIG, finger_bone_index
from .geometry import axis_angle_matrices, matrices_to_quats

__all__ = [
    "HandPose",
    "HandsPose",
    "JOINT_LIMITS",
    "extended_fingers",
    "finger_curl",
    "thumb_across",
    "hand_points_to_rig",
    "hand_rotation",
    "solve_hand",
]

#: ``JOINT_LIMITS[finger][joint] = (flex_min, flex_max, abd_min, abd_max)`` in degrees, joints
#: base to tip (thumb: CMC, MCP, IP; fingers: MCP, PIP, DIP). Active ranges of motion from the
#: hand-surgery literature (American Academy of Orthopaedic Surgeons' averages), rounded:
#: knuckles flex to 90 and hyperextend 20 (the little finger 30), middle joints to 110
#: without hyperextension, end joints to 80 with 10 back; spread +-20 at the index and little
#: knuckles, +-15 middle and ring; thumb CMC flexion -20..50 and abduction -10..60 (palmar and
#: radial together), thumb MCP 0..60 and IP -10..80 (hinges).
JOINT_LIMITS: dict[Finger, tuple[tuple[float, float, float, float], ...]] = {
    Finger.THUMB: ((-20.0, 50.0, -10.0, 60.0), (0.0, 60.0, 0.0, 0.0), (-10.0, 80.0, 0.0, 0.0)),
    Finger.INDEX: ((-20.0, 90.0, -20.0, 20.0), (0.0, 110.0, 0.0, 0.0), (-10.0, 80.0, 0.0, 0.0)),
    Finger.MIDDLE: ((-20.0, 90.0, -15.0, 15.0), (0.0, 110.0, 0.0, 0.0), (-10.0, 80.0, 0.0, 0.0)),
    Finger.RING: ((-20.0, 90.0, -15.0, 15.0), (0.0, 110.0, 0.0, 0.0), (-10.0, 80.0, 0.0, 0.0)),
    Finger.LITTLE: ((-30.0, 90.0, -20.0, 20.0), (0.0, 110.0, 0.0, 0.0), (-10.0, 80.0, 0.0, 0.0)),
}

_PALM_DOWN = np.array([0.0, -1.0, 0.0])
_IDENTITY = np.array([0.0, 0.0, 0.0, 1.0])


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    return v / n if n > 1e-12 else np.full(3, np.nan)


def _side_sign(side: Side) -> float:
    return 1.0 if Side(side) is Side.LEFT else -1.0


def rest_hand_axes(side: Side) -> np.ndarray:
    """``(3, 3)`` columns ``[finger direction, thumb side, palm normal]`` of the rest hand
    (rig frame): left ``[+X, +Z, -Y]``, right ``[-X, +Z, -Y]``."""
    s = _side_sign(side)
    return np.array([[s, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]]).T


def flexion_direction(side: Side, finger: Finger) -> np.ndarray:
    """``(3,)`` unit direction (rig frame, rest) a finger's tip moves in when it flexes: the
    palm normal (-Y) for the four fingers; for the thumb, halfway between the palm normal and
    the palm's plane towards the little finger (perpendicular to the thumb's rest direction)."""
    if Finger(finger) is not Finger.THUMB:
        return _PALM_DOWN.copy()
    s = _side_sign(side)
    across = np.array([s, 0.0, -1.0]) / math.sqrt(2.0)  # in the palm's plane, towards the fingers' side
    return _unit(_PALM_DOWN + across)


def hand_points_to_rig(world: np.ndarray) -> np.ndarray:
    """``(..., 21, 3)`` hand world landmarks (metres, image axes: x right, y down, z away) to
    rig axes (x image right, y up, z towards the camera)."""
    return np.asarray(world, dtype=np.float64) @ MP_TO_RIG.T


def hand_axes(points: np.ndarray, side: Side) -> np.ndarray | None:
    """``(3, 3)`` observed hand axes ``[finger direction, thumb side, palm normal]`` (columns,
    orthonormal, right-handed for the left hand as at rest) from ``(21, 3)`` rig-frame points,
    or None if degenerate. The palm normal is ``finger x thumb`` for the left hand and
    ``thumb x finger`` for the right (both point out of the palm)."""
    p = np.asarray(points, dtype=np.float64)
    f = _unit(p[HL.MIDDLE_MCP] - p[HL.WRIST])
    t_raw = p[HL.INDEX_MCP] - p[HL.PINKY_MCP]
    t = _unit(t_raw - float(np.dot(t_raw, f)) * f)
    if not (np.isfinite(f).all() and np.isfinite(t).all()):
        return None
    n = _side_sign(side) * np.cross(f, t)
    return np.stack([f, t, n], axis=1)


def hand_rotation(points: np.ndarray, side: Side) -> np.ndarray | None:
    """``(3, 3)`` the hand's global rotation (rest -> observed, rig frame) from ``(21, 3)``
    rig-frame points, or None if degenerate."""
    axes = hand_axes(points, side)
    if axes is None:
        return None
    rest = rest_hand_axes(side)
    r = axes @ rest.T
    if np.linalg.det(r) < 0:  # cannot happen with the signs above; guard against NaN noise
        return None
    return r


def finger_curl(points: np.ndarray) -> np.ndarray:
    """``(5, 3)`` bend in degrees at each finger joint (rows :class:`Finger`, joints base to
    tip), from the points alone (no side, no limits): at the base joint (MCP; thumb CMC) the
    angle of the finger's first segment out of the palm's plane (wrist, index and pinky
    knuckles), at the two others the angle between the segments meeting there; all unsigned,
    0 for a flat hand however spread. ``finger_curl(p).sum(axis=1)`` is each finger's total
    curl; NaN where a point is NaN.

    points: ``(21, 3)`` hand landmarks in any one frame and unit (metres or pixels).
    """
    p = np.asarray(points, dtype=np.float64)
    out = np.full((5, 3), np.nan)
    normal = _unit(np.cross(p[HL.INDEX_MCP] - p[HL.WRIST], p[HL.PINKY_MCP] - p[HL.WRIST]))
    for f, chain in enumerate(FINGER_CHAINS):
        segs = [_unit(p[int(chain[k + 1])] - p[int(chain[k])]) for k in range(3)]
        out[f, 0] = math.degrees(math.asin(min(1.0, abs(float(np.dot(segs[0], normal))))))
        for j in (1, 2):
            out[f, j] = math.degrees(math.acos(float(np.clip(np.dot(segs[j - 1], segs[j]), -1.0, 1.0))))
    return out


#: A finger whose total curl (:func:`finger_curl`, degrees) is below this counts as extended.
EXTENDED_CURL_DEG = 90.0
#: A thumb whose tip lies further across the palm than this (:func:`thumb_across`) is folded.
THUMB_FOLDED_ACROSS = 0.1


def thumb_across(points: np.ndarray) -> float:
    """Where the thumb tip lies across the palm: its projection on the line from the index
    knuckle (0) to the little finger's knuckle (1); negative outside the index side. The
    thumb's joints bend about as much when it rests beside the index as when it folds over the
    middle finger (measured on the shared hand photos: 54 and 58 degrees), so whether a thumb
    is folded is read from where its tip is. points: ``(21, 3)`` (or ``(21, 2)``), any unit."""
    p = np.asarray(points, dtype=np.float64)
    a = p[HL.PINKY_MCP] - p[HL.INDEX_MCP]
    return float(np.dot(p[HL.THUMB_TIP] - p[HL.INDEX_MCP], a) / np.dot(a, a))


def extended_fingers(points: np.ndarray) -> np.ndarray:
    """``(5,)`` bool per :class:`Finger`: extended (True) or curled. A finger is extended when
    its total curl is under :data:`EXTENDED_CURL_DEG`; the thumb also needs its tip not across
    the palm (:func:`thumb_across` at most :data:`THUMB_FOLDED_ACROSS`)."""
    total = finger_curl(points).sum(axis=1)
    out = total < EXTENDED_CURL_DEG
    out[Finger.THUMB] = bool(out[Finger.THUMB] and thumb_across(points) <= THUMB_FOLDED_ACROSS)
    return out


@dataclass(frozen=True)
class HandPose:
    """One hand's retargeting.

    side: the subject's side. rotation: ``(4,)`` the Hand bone's global rotation
        ``(x, y, z, w)`` (rest -> observed) in the frame of the input points.
    local_rotations: ``(15, 4)`` finger bones' local rotations ``(x, y, z, w)`` in
        :data:`arpose.skeleton.FINGER_BONES` order for this side (Thumb, Index, Middle, Ring,
        Little; each Proximal, Intermediate, Distal).
    flexion: ``(5, 3)`` degrees applied at each joint (after :data:`JOINT_LIMITS`).
    abduction: ``(5,)`` degrees applied at each finger's base joint, towards the thumb.
    curl: ``(5,)`` degrees, each finger's total bend from :func:`finger_curl` (no limits).
    confidence: the hand model's presence score in [0, 1].
    """

    side: Side
    rotation: np.ndarray
    local_rotations: np.ndarray
    flexion: np.ndarray
    abduction: np.ndarray
    curl: np.ndarray
    confidence: float


@dataclass(frozen=True)
class HandsPose:
    """Both hands of a person (``Person.fingers``).

    local_rotations: ``(30, 4)`` the 30 finger bones' local rotations ``(x, y, z, w)`` in
        :data:`arpose.skeleton.FINGER_BONES` order; identity (rest, an open hand) for a hand
        not seen. seen: ``(2,)`` bool per :class:`Side`. hands: per side the
        :class:`HandPose` or None. hand_rotations: ``(2, 4)`` each Hand bone's global rotation
        in the body's *world* (:class:`arpose.retarget.BodyPose`), NaN if not seen.
    """

    local_rotations: np.ndarray
    seen: np.ndarray
    hands: tuple[HandPose | None, HandPose | None]
    hand_rotations: np.ndarray


def solve_hand(points: np.ndarray, side: Side, confidence: float = 1.0) -> HandPose | None:
    """Finger bones of one hand from ``(21, 3)`` rig-frame points (see the module doc for the
    frames); None if any point is NaN or the hand frame is degenerate."""
    p = np.asarray(points, dtype=np.float64)
    if p.shape != (21, 3) or not np.isfinite(p).all():
        return None
    g_hand = hand_rotation(p, side)
    if g_hand is None:
        return None
    s = _side_sign(side)
    local = np.tile(_IDENTITY, (15, 1))
    flexion = np.zeros((5, 3))
    abduction = np.zeros(5)
    for finger in Finger:
        chain = FINGER_CHAINS[finger]
        e_n = flexion_direction(side, finger)
        parent = g_hand
        for j in range(3):
            b = finger_bone_index(side, finger, j)
            e_f = FINGER_REST_DIRECTIONS[b]
            axis = _unit(np.cross(e_f, e_n))
            e_lat = np.cross(e_n, e_f)  # the rest direction turned 90 degrees about e_n
            d = _unit(parent.T @ (p[int(chain[j + 1])] - p[int(chain[j])]))
            if not np.isfinite(d).all():
                return None
            lo, hi, alo, ahi = JOINT_LIMITS[finger][j]
            if ahi > alo:  # a base joint: flexion out of the plane, then abduction about e_n
                flex = math.degrees(math.atan2(float(d @ e_n), math.hypot(float(d @ e_f), float(d @ e_lat))))
                # towards the thumb is +Z at rest for both hands; e_lat is +Z (left) / -Z (right)
                abd_raw = math.degrees(math.atan2(float(d @ e_lat), float(d @ e_f)))
                abd = float(np.clip(s * abd_raw, alo, ahi))
            else:  # a hinge
                flex = math.degrees(math.atan2(float(d @ e_n), float(d @ e_f)))
                abd = 0.0
            flex = float(np.clip(flex, lo, hi))
            r = axis_angle_matrices(e_n, math.radians(s * abd)) @ axis_angle_matrices(axis, math.radians(flex))
            local[finger * 3 + j] = matrices_to_quats(r)
            flexion[finger, j] = flex
            if j == 0:
                abduction[finger] = abd
            parent = parent @ r
    curl = finger_curl(p).sum(axis=1)
    return HandPose(Side(side), matrices_to_quats(g_hand), local, flexion, abduction, curl, float(confidence))
