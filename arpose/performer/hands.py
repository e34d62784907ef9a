"""The performer's articulated hands: finger poses from joint angles, finger kinematics, the
21 true hand landmarks, and the procedural gestures with their known angles.

Conventions (those of :mod:`arpose.retarget.fingers`, so the truth compares 1:1 with
:func:`~arpose.retarget.fingers.solve_hand`'s output):

* Angles per hand are ``flexion`` ``(5, 3)`` degrees (rows :class:`arpose.landmarks.Finger`,
  thumb .. little; joints base to tip: thumb CMC, MCP, IP; fingers MCP, PIP, DIP; towards the
  palm positive) and ``abduction`` ``(5,)`` degrees at each finger's base joint (towards the
  thumb positive). Both hands are given as ``(..., 2, 5, 3)`` / ``(..., 2, 5)`` with the second
  to last axes' first index :class:`arpose.landmarks.Side` (the **subject's** left, right).
* Each finger bone's local rotation (relative to the Hand bone or the previous phalanx, rig
  axes at rest) is ``R(e_n, s * abduction) @ R(e_f x e_n, flexion)`` with ``e_f`` the bone's rest
  direction (:data:`arpose.skeleton.FINGER_REST_DIRECTIONS`), ``e_n`` its flexion direction
  (:func:`arpose.retarget.fingers.flexion_direction`) and ``s`` +1 for the left hand, -1 for the
  right: the inverse of what ``solve_hand`` measures.
* Finger bones are :data:`arpose.skeleton.FINGER_BONES` (30: left hand then right; thumb,
  index, middle, ring, little; proximal, intermediate, distal), rest offsets scaled with the
  body. Quaternions ``(x, y, z, w)``.
* Hand landmarks follow MediaPipe's 21 (:class:`arpose.landmarks.HandLandmark`): the wrist is
  the Hand joint, each finger's first three points its three bones' joints (the thumb's
  proximal joint is the thumb CMC), the tip the distal bone's end.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation

from ..landmarks import FINGER_CHAINS, Finger, Side
from ..landmarks import HandLandmark as HL
from ..retarget.fingers import flexion_direction
from ..retarget.geometry import axis_angle_matrices, matrices_to_quats
from ..skeleton import (
    BONE_INDEX,
    FINGER_BONES,
    FINGER_REST_DIRECTIONS,
    FINGER_REST_OFFSETS,
    NUM_FINGER_BONES,
    finger_bone_index,
)

_HANDS = (BONE_INDEX["LeftHand"], BONE_INDEX["RightHand"])
#: ``(30,)`` parent of each finger bone: ``-1 - side`` for the Hand bone of that side, else the
#: index of the previous phalanx in :data:`arpose.skeleton.FINGER_BONES`.
_FINGER_PARENTS = np.array(
    [-1 - (i // 15) if i % 3 == 0 else i - 1 for i in range(NUM_FINGER_BONES)],
    dtype=np.intp,
)
#: ``(30, 3)`` each distal bone's end offset (tip), zeros for the others; rest, rig frame, metres.
_FINGER_ENDS = np.array([b.end if b.end is not None else (0.0, 0.0, 0.0) for b in FINGER_BONES], dtype=np.float64)


def finger_local_rotations(flexion: np.ndarray, abduction: np.ndarray | None = None) -> np.ndarray:
    """``(..., 30, 4)`` finger bones' local rotations ``(x, y, z, w)`` in
    :data:`arpose.skeleton.FINGER_BONES` order from ``flexion`` ``(..., 2, 5, 3)`` and
    ``abduction`` ``(..., 2, 5)`` degrees (None: no spread); see the module doc."""
    flex = np.asarray(flexion, dtype=np.float64)
    lead = flex.shape[:-3]
    abd = np.zeros(lead + (2, 5)) if abduction is None else np.asarray(abduction, dtype=np.float64)
    out = np.zeros(lead + (NUM_FINGER_BONES, 4))
    for side in Side:
        s = 1.0 if side is Side.LEFT else -1.0
        for finger in Finger:
            e_n = flexion_direction(side, finger)
            for j in range(3):
                b = finger_bone_index(side, finger, j)
                e_f = FINGER_REST_DIRECTIONS[b]
                axis = np.cross(e_f, e_n)
                axis /= np.linalg.norm(axis)
                r = axis_angle_matrices(axis, np.radians(flex[..., side, finger, j]))
                if j == 0:
                    r = axis_angle_matrices(e_n, np.radians(s * abd[..., side, finger])) @ r
                out[..., b, :] = matrices_to_quats(r)
    return out


def finger_kinematics(
    positions: np.ndarray, rotations: np.ndarray, finger_local: np.ndarray, scale: float = 1.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Global finger joints from the posed body.

    positions, rotations: ``(..., B, 3)`` / ``(..., B, 4)`` global body joints (any one frame,
    e.g. *world*; :func:`arpose.skeleton.forward_kinematics`). finger_local: ``(..., 30, 4)``
    finger local rotations. scale: body scale on the finger rest offsets.
    Returns ``(positions (..., 30, 3), rotations (..., 30, 4), tips (..., 30, 3))`` in the
    body's frame; ``tips`` is each bone's end point (its child's joint; the fingertip for the
    distal bones).
    """
    pos = np.asarray(positions, dtype=np.float64)
    lead = pos.shape[:-2]
    n = int(np.prod(lead, dtype=np.int64))
    bp = pos.reshape(n, -1, 3)
    br = np.asarray(rotations, dtype=np.float64).reshape(n, -1, 4)
    fl = np.asarray(finger_local, dtype=np.float64).reshape(n, NUM_FINGER_BONES, 4)
    gpos = np.zeros((n, NUM_FINGER_BONES, 3))
    tips = np.zeros((n, NUM_FINGER_BONES, 3))
    grot: list[Rotation] = [None] * NUM_FINGER_BONES  # type: ignore[list-item]
    for i in range(NUM_FINGER_BONES):
        p = _FINGER_PARENTS[i]
        if p < 0:
            h = _HANDS[-1 - p]
            parent_rot, parent_pos = Rotation.from_quat(br[:, h]), bp[:, h]
        else:
            parent_rot, parent_pos = grot[p], gpos[:, p]
        grot[i] = parent_rot * Rotation.from_quat(fl[:, i])
        gpos[:, i] = parent_pos + parent_rot.apply(FINGER_REST_OFFSETS[i] * scale)
        if i % 3 == 2:
            tips[:, i] = gpos[:, i] + grot[i].apply(_FINGER_ENDS[i] * scale)
        if p >= 0:
            tips[:, p] = gpos[:, i]
    rots = np.stack([g.as_quat() for g in grot], axis=1)
    return (
        gpos.reshape(lead + (NUM_FINGER_BONES, 3)),
        rots.reshape(lead + (NUM_FINGER_BONES, 4)),
        tips.reshape(lead + (NUM_FINGER_BONES, 3)),
    )


def hand_landmarks(positions: np.ndarray, finger_positions: np.ndarray, finger_tips: np.ndarray) -> np.ndarray:
    """``(..., 2, 21, 3)`` the true hand landmarks (MediaPipe order, first axis
    :class:`Side`) from the body joints ``(..., B, 3)`` and :func:`finger_kinematics`'
    positions and tips ``(..., 30, 3)``, in their frame."""
    pos = np.asarray(positions, dtype=np.float64)
    fp = np.asarray(finger_positions, dtype=np.float64)
    ft = np.asarray(finger_tips, dtype=np.float64)
    out = np.zeros(pos.shape[:-2] + (2, 21, 3))
    for side in Side:
        out[..., side, HL.WRIST, :] = pos[..., _HANDS[side], :]
        for finger in Finger:
            chain = FINGER_CHAINS[finger]
            for j in range(3):
                out[..., side, int(chain[j]), :] = fp[..., finger_bone_index(side, finger, j), :]
            out[..., side, int(chain[3]), :] = ft[..., finger_bone_index(side, finger, 2), :]
    return out


# ----------------------------------------------------------------------------------------
# Gestures: per-hand joint angles, degrees (rows thumb .. little; columns base, middle, end
# joint), all inside arpose.retarget.fingers.JOINT_LIMITS.


@dataclass(frozen=True)
class Gesture:
    """A hand shape: ``flexion`` ``(5, 3)`` and ``abduction`` ``(5,)`` degrees (see the module
    doc), the same for both hands (mirrored by the conventions)."""

    name: str
    flexion: tuple[tuple[float, float, float], ...]
    abduction: tuple[float, float, float, float, float] = (0.0, 0.0, 0.0, 0.0, 0.0)


_CURLED = (80.0, 95.0, 60.0)
_THUMB_FOLDED = (40.0, 45.0, 35.0)
_FLAT = (0.0, 0.0, 0.0)
_SPREAD = (0.0, 8.0, 0.0, -6.0, -12.0)

#: The gestures in the order the ``gestures`` motion shows them. ``wave`` holds ``open`` with
#: the wrist swinging side to side and the fingers flexing at the knuckles (:func:`gestures`).
GESTURES: dict[str, Gesture] = {
    g.name: g
    for g in (
        Gesture("open", (_FLAT, _FLAT, _FLAT, _FLAT, _FLAT), _SPREAD),
        Gesture("fist", (_THUMB_FOLDED, _CURLED, _CURLED, _CURLED, _CURLED)),
        Gesture("point", (_THUMB_FOLDED, _FLAT, _CURLED, _CURLED, _CURLED)),
        Gesture(
            "pinch",
            ((30.0, 25.0, 20.0), (45.0, 50.0, 25.0), (10.0, 15.0, 5.0), (10.0, 15.0, 5.0), (10.0, 15.0, 5.0)),
            (20.0, 0.0, 0.0, -6.0, -12.0),
        ),
        Gesture("wave", (_FLAT, _FLAT, _FLAT, _FLAT, _FLAT), _SPREAD),
    )
}
#: Seconds each gesture lasts in the ``gestures`` motion; the first :data:`GESTURE_BLEND` of
#: them blends from the previous gesture.
GESTURE_SECONDS = 1.2
GESTURE_BLEND = 0.3
#: The wave: wrist swing amplitude (degrees, about the palm normal), knuckle flexion peak
#: (degrees) and rate (Hz).
WAVE_WRIST_DEG, WAVE_KNUCKLE_DEG, WAVE_HZ = 20.0, 20.0, 2.0


def _ease(u: np.ndarray) -> np.ndarray:
    u = np.clip(u, 0.0, 1.0)
    return u * u * u * (u * (6.0 * u - 15.0) + 10.0)


def gestures(t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[str, ...]]:
    """The gesture cycle at times ``t`` ``(F,)`` seconds: :data:`GESTURES` in order, each
    :data:`GESTURE_SECONDS` long (repeating), blended in over its first :data:`GESTURE_BLEND`
    seconds with a quintic ease. Returns ``(flexion (F, 2, 5, 3), abduction (F, 2, 5),
    wrist (F,) degrees of the wave's side-to-side swing about the palm normal (0 outside the
    wave), labels (F,) the gesture shown)``."""
    t = np.asarray(t, dtype=np.float64).reshape(-1)
    names = list(GESTURES)
    flex_table = np.array([GESTURES[n].flexion for n in names])  # (G, 5, 3)
    abd_table = np.array([GESTURES[n].abduction for n in names])  # (G, 5)
    seg = np.floor(t / GESTURE_SECONDS).astype(np.int64)
    cur, prev = seg % len(names), (seg - 1) % len(names)
    w = _ease((t - seg * GESTURE_SECONDS) / GESTURE_BLEND)
    w = np.where(seg == 0, 1.0, w)  # the first gesture starts in place
    flex = w[:, None, None] * flex_table[cur] + (1 - w[:, None, None]) * flex_table[prev]
    abd = w[:, None] * abd_table[cur] + (1 - w[:, None]) * abd_table[prev]
    wave = cur == names.index("wave")
    osc = 2.0 * np.pi * WAVE_HZ * t
    amount = np.where(wave, w, 0.0)
    wrist = WAVE_WRIST_DEG * np.sin(osc) * amount
    flex[:, 1:, 0] += (WAVE_KNUCKLE_DEG * 0.5 * (1.0 - np.cos(osc)) * amount)[:, None]
    flex2 = np.repeat(flex[:, None], 2, axis=1)
    abd2 = np.repeat(abd[:, None], 2, axis=1)
    return flex2, abd2, wrist, tuple(names[i] for i in cur)


__all__ = [
    "GESTURES",
    "GESTURE_BLEND",
    "GESTURE_SECONDS",
    "Gesture",
    "finger_kinematics",
    "finger_local_rotations",
    "gestures",
    "hand_landmarks",
]
