"""Global bone frames for rendering: where each bone of :mod:`arpose.skeleton` is and how it
is turned in the frame the overlays are drawn in.

Frame of reference (everything here)
------------------------------------
The camera-attached rig *world* of :class:`arpose.retarget.BodyPose`: metres, right-handed,
+X the image's right, +Y the camera's up, +Z towards the camera (out of the screen). This is
exactly OpenGL's camera frame with the camera at the origin, so the renderer uses an identity
camera pose. ``world = MP_TO_RIG @ opencv_camera`` (:data:`arpose.skeleton.MP_TO_RIG`).
A bone's rotation maps its rest frame (rig axes at the T-pose: +Y up, +Z the subject's
forward, +X the subject's left) into *world*. Quaternions ``(x, y, z, w)``.

Two sources:

* :meth:`BodyFrames.from_body`: the retargeting output (``Person.body``), by forward
  kinematics of its local rotations: the preferred source.
* :meth:`BodyFrames.from_landmarks`: a direct, coarser fallback when no retargeting stage ran:
  the Hips' camera translation is fitted so that the world landmarks project onto the image
  landmarks (least squares, the intrinsics of :class:`arpose.types.Camera`), joints come from
  :data:`arpose.skeleton.JOINT_WEIGHTS` and each bone's rotation from the direction to its
  child joint plus a reference direction for its twist (see :data:`_BONE_RULES`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation, Slerp

from ..landmarks import VISIBILITY
from ..landmarks import PoseLandmark as L
from ..skeleton import (
    BONE_INDEX,
    BONE_NAMES,
    JOINT_WEIGHTS,
    MP_TO_RIG,
    NUM_BONES,
    PARENTS,
    REST_OFFSETS,
    joints_from_landmarks,
)
from ..types import Camera, Person

_IDENTITY = np.array([0.0, 0.0, 0.0, 1.0])
#: Hip centre to shoulder centre of the default skeleton (metres): the body's scale unit.
_REST_TORSO = float(np.linalg.norm(REST_OFFSETS[1:5].sum(axis=0)))


@dataclass(frozen=True)
class BodyFrames:
    """One person's bones in *world* (see the module docstring).

    positions: ``(B, 3)`` metres, each bone's joint; NaN rows where unknown.
    rotations: ``(B, 4)`` global rotations ``(x, y, z, w)``; NaN rows where unknown.
    local_rotations: ``(B, 4)`` each bone relative to its parent (identity where unknown),
        the root's relative to *world*; what drives the avatar.
    scale: the body's size relative to the default 1.72 m skeleton (1.0 = default).
    landmarks: ``(33, 3)`` the BlazePose landmarks in *world*, metres, or ``None``.
    source: ``"body"`` (retargeting output) or ``"landmarks"`` (fallback).
    """

    positions: np.ndarray
    rotations: np.ndarray
    local_rotations: np.ndarray
    scale: float
    landmarks: np.ndarray | None = None
    source: str = "body"

    def valid(self, bone: int) -> bool:
        """True when bone ``bone`` (index) has a finite position and rotation."""
        return bool(np.isfinite(self.positions[bone]).all() and np.isfinite(self.rotations[bone]).all())

    @classmethod
    def from_body(cls, body, person: Person | None = None) -> "BodyFrames":
        """From a :class:`arpose.retarget.BodyPose`. ``person`` (optional) supplies the world
        landmarks, placed with the body's root (MediaPipe's world origin is the hip centre,
        the Hips joint)."""
        offsets = np.asarray(body.offsets, dtype=np.float64)
        local = np.asarray(body.local_rotations, dtype=np.float64)
        root = np.asarray(body.root_position, dtype=np.float64)
        if not (np.isfinite(local).all() and np.isfinite(root).all()):
            nan = np.full((NUM_BONES, 3), np.nan)
            return cls(nan, np.full((NUM_BONES, 4), np.nan), np.tile(_IDENTITY, (NUM_BONES, 1)), 1.0, None, "body")
        rotations = global_rotations(local)
        positions = np.asarray(body.positions, dtype=np.float64)
        torso = float(np.linalg.norm(offsets[1:5].sum(axis=0)))
        scale = torso / _REST_TORSO if np.isfinite(torso) and torso > 0 else 1.0
        lms = None
        if person is not None and person.world is not None and np.isfinite(person.world).all():
            lms = np.asarray(person.world, dtype=np.float64) @ MP_TO_RIG.T + root
        return cls(positions, rotations, local, scale, lms, "body")

    @classmethod
    def from_landmarks(cls, person: Person, camera: Camera, min_visibility: float = 0.5) -> "BodyFrames":
        """Fallback from the person's image and world landmarks (see the module docstring).

        Bones whose landmarks have visibility below ``min_visibility`` get NaN rows. If the
        translation cannot be fitted (too few visible landmarks), everything is NaN.
        """
        world_mp = np.asarray(person.world, dtype=np.float64)
        vis = np.nan_to_num(np.asarray(person.landmarks[:, VISIBILITY], dtype=np.float64), nan=0.0)
        px = person.pixels(camera.width, camera.height)
        t = fit_translation(world_mp, px, camera, weights=np.where(vis >= min_visibility, vis, 0.0))
        nan3, nan4 = np.full((NUM_BONES, 3), np.nan), np.full((NUM_BONES, 4), np.nan)
        if t is None:
            return cls(nan3, nan4, np.tile(_IDENTITY, (NUM_BONES, 1)), 1.0, None, "landmarks")
        lms = (world_mp + t) @ MP_TO_RIG.T
        ok = vis >= min_visibility
        positions = joints_from_landmarks(lms)
        rotations = bone_rotations_from_landmarks(lms, ok)
        for i, name in enumerate(BONE_NAMES):
            if not ok[_JOINT_LANDMARKS[name]].all():
                positions[i] = np.nan
        torso = np.linalg.norm(positions[BONE_INDEX["Neck"]] - positions[BONE_INDEX["Hips"]])
        scale = float(torso / _REST_TORSO) if np.isfinite(torso) and torso > 0 else 1.0
        return cls(positions, rotations, local_from_global(rotations), scale, lms, "landmarks")

    @classmethod
    def from_person(cls, person: Person, camera: Camera, min_visibility: float = 0.5) -> "BodyFrames":
        """:meth:`from_body` when the person has a retargeted body, else :meth:`from_landmarks`."""
        if person.body is not None:
            return cls.from_body(person.body, person)
        return cls.from_landmarks(person, camera, min_visibility)


def fit_translation(world: np.ndarray, pixels: np.ndarray, camera: Camera, weights: np.ndarray) -> np.ndarray | None:
    """The translation ``t`` (metres, OpenCV camera frame) that best places MediaPipe world
    landmarks in front of the camera: ``camera.project(world + t) ~ pixels``.

    world: ``(N, 3)`` metres in MediaPipe's world frame (axes parallel to the camera's: x
    right, y down, z forward). pixels: ``(N, 2)`` image landmarks in pixels. weights: ``(N,)``
    non-negative (0 drops a point). Linear least squares on the cross-multiplied projection
    equations ``fx (X + tx) = (u - cx)(Z + tz)`` (and likewise for y). Returns ``(3,)`` or
    ``None`` with fewer than 3 usable points or a solution behind the camera.
    """
    w = np.asarray(weights, dtype=np.float64)
    use = (w > 0) & np.isfinite(world).all(axis=1) & np.isfinite(pixels).all(axis=1)
    if use.sum() < 3:
        return None
    X, Y, Z = world[use].T
    du = pixels[use, 0] - camera.cx
    dv = pixels[use, 1] - camera.cy
    n = int(use.sum())
    A = np.zeros((2 * n, 3))
    b = np.zeros(2 * n)
    A[:n, 0], A[:n, 2], b[:n] = camera.fx, -du, du * Z - camera.fx * X
    A[n:, 1], A[n:, 2], b[n:] = camera.fy, -dv, dv * Z - camera.fy * Y
    sw = np.sqrt(np.concatenate([w[use], w[use]]))
    t, *_ = np.linalg.lstsq(A * sw[:, None], b * sw, rcond=None)
    if not np.isfinite(t).all() or t[2] + np.median(Z) <= 0.05:
        return None
    return t


#: Landmarks each bone's joint position needs (the non-zero entries of JOINT_WEIGHTS).
_JOINT_LANDMARKS: dict[str, np.ndarray] = {n: np.flatnonzero(JOINT_WEIGHTS[i]) for i, n in enumerate(BONE_NAMES)}

_SH = (L.LEFT_SHOULDER, L.RIGHT_SHOULDER)
_HP = (L.LEFT_HIP, L.RIGHT_HIP)


def _mid(p: np.ndarray, a: L, b: L) -> np.ndarray:
    return 0.5 * (p[a] + p[b])


def _frame(primary: np.ndarray, secondary: np.ndarray) -> np.ndarray | None:
    """``(3, 3)`` orthonormal columns ``[p, s_perp, p x s_perp]`` or None if degenerate."""
    p = primary / np.linalg.norm(primary)
    s = secondary - (secondary @ p) * p
    ns = np.linalg.norm(s)
    if not (np.isfinite(p).all() and np.isfinite(ns)) or ns < 1e-6:
        return None
    s = s / ns
    return np.stack([p, s, np.cross(p, s)], axis=1)


def _align(rest_primary, rest_secondary, now_primary, now_secondary) -> np.ndarray:
    """Rotation matrix taking the rest pair of directions to the current pair (primary exact)."""
    a = _frame(np.asarray(rest_primary, float), np.asarray(rest_secondary, float))
    b = _frame(now_primary, now_secondary)
    if a is None or b is None:
        return np.full((3, 3), np.nan)
    return b @ a.T


def bone_rotations_from_landmarks(lms: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """``(B, 4)`` global bone rotations ``(x, y, z, w)`` in *world* from ``(33, 3)`` landmarks
    in *world* (metres). ``ok``: ``(33,)`` bool, landmarks usable; bones that need an unusable
    landmark get NaN rows.

    Rules: torso bones turn the rest (+X left, +Y up) pair onto (hip or shoulder line, hip
    centre to shoulder centre); the head turns (+X, +Z) onto (ear line, ear centre to nose);
    limbs turn their rest direction to the child joint onto the current one, with the twist
    taken from the torso's forward (arms, legs) or the index-minus-pinky direction (hands,
    +Z at rest).
    """
    R = np.full((NUM_BONES, 3, 3), np.nan)
    X, Y, Z = np.eye(3)

    def need(*lm: L) -> bool:
        return bool(ok[list(lm)].all())

    hipc, shc = _mid(lms, *_HP), _mid(lms, *_SH)
    up = shc - hipc
    if need(*_HP, *_SH):
        hips = _align(X, Y, lms[L.LEFT_HIP] - lms[L.RIGHT_HIP], up)
        chest = _align(Y, X, up, lms[L.LEFT_SHOULDER] - lms[L.RIGHT_SHOULDER])
        R[BONE_INDEX["Hips"]] = hips
        slerp_ok = np.isfinite(hips).all() and np.isfinite(chest).all()
        for name, t in (("Spine", 1 / 3), ("Chest", 2 / 3)):
            if slerp_ok:
                r = Rotation.from_matrix(np.stack([hips, chest]))
                R[BONE_INDEX[name]] = Slerp([0.0, 1.0], r)([t]).as_matrix()[0]
        R[BONE_INDEX["UpperChest"]] = chest
        for side in ("Left", "Right"):
            R[BONE_INDEX[f"{side}Shoulder"]] = chest
    if need(*_SH, L.LEFT_EAR, L.RIGHT_EAR):
        earc = _mid(lms, L.LEFT_EAR, L.RIGHT_EAR)
        R[BONE_INDEX["Neck"]] = _align(Y, X, earc - shc, lms[L.LEFT_EAR] - lms[L.RIGHT_EAR])
    if need(L.LEFT_EAR, L.RIGHT_EAR, L.NOSE):
        earc = _mid(lms, L.LEFT_EAR, L.RIGHT_EAR)
        R[BONE_INDEX["Head"]] = _align(X, Z, lms[L.LEFT_EAR] - lms[L.RIGHT_EAR], lms[L.NOSE] - earc)
    forward_chest = R[BONE_INDEX["UpperChest"]] @ Z
    forward_hips = R[BONE_INDEX["Hips"]] @ Z
    for side, sx in (("Left", 1.0), ("Right", -1.0)):
        S = side.upper()
        sh, el, wr = L[f"{S}_SHOULDER"], L[f"{S}_ELBOW"], L[f"{S}_WRIST"]
        idx, pk = L[f"{S}_INDEX"], L[f"{S}_PINKY"]
        hip, kn, an, heel, toe = L[f"{S}_HIP"], L[f"{S}_KNEE"], L[f"{S}_ANKLE"], L[f"{S}_HEEL"], L[f"{S}_FOOT_INDEX"]
        if need(sh, el, *_SH, *_HP):
            R[BONE_INDEX[f"{side}UpperArm"]] = _align(sx * X, Z, lms[el] - lms[sh], forward_chest)
        if need(el, wr, *_SH, *_HP):
            R[BONE_INDEX[f"{side}LowerArm"]] = _align(sx * X, Z, lms[wr] - lms[el], forward_chest)
        if need(wr, idx, pk):
            tip = 0.5 * (lms[idx] + lms[pk])
            R[BONE_INDEX[f"{side}Hand"]] = _align(sx * X, Z, tip - lms[wr], lms[idx] - lms[pk])
        if need(hip, kn, *_HP, *_SH):
            R[BONE_INDEX[f"{side}UpperLeg"]] = _align(-Y, Z, lms[kn] - lms[hip], forward_hips)
        if need(kn, an, *_HP, *_SH):
            R[BONE_INDEX[f"{side}LowerLeg"]] = _align(-Y, Z, lms[an] - lms[kn], forward_hips)
        if need(an, heel, toe, *_HP):
            left = R[BONE_INDEX["Hips"]] @ X
            foot_rest = REST_OFFSETS[BONE_INDEX[f"{side}Toes"]]
            toes_joint = 0.25 * lms[heel] + 0.75 * lms[toe]
            R[BONE_INDEX[f"{side}Foot"]] = _align(foot_rest, X, toes_joint - lms[an], left)
            R[BONE_INDEX[f"{side}Toes"]] = _align(Z, X, lms[toe] - toes_joint, left)
    out = np.full((NUM_BONES, 4), np.nan)
    good = np.isfinite(R).all(axis=(1, 2))
    if good.any():
        out[good] = Rotation.from_matrix(R[good]).as_quat()
    return out


def global_rotations(local_rotations: np.ndarray) -> np.ndarray:
    """``(B, 4)`` global rotations ``(x, y, z, w)`` from ``(B, 4)`` local ones: the rotation
    half of :func:`arpose.skeleton.forward_kinematics` (one scipy conversion each way and a
    matrix product per bone, for the renderer's per-frame budget)."""
    local = Rotation.from_quat(local_rotations).as_matrix()
    out = np.empty_like(local)
    for i in range(NUM_BONES):
        p = PARENTS[i]
        out[i] = local[i] if p < 0 else out[p] @ local[i]
    return Rotation.from_matrix(out).as_quat()


def local_from_global(rotations: np.ndarray) -> np.ndarray:
    """``(B, 4)`` local rotations (each bone relative to its parent) from global ones; a bone
    whose own or parent's rotation is NaN gets the identity (its rest pose relative to the
    parent). The root's local rotation is its global one (identity if NaN)."""
    out = np.tile(_IDENTITY, (NUM_BONES, 1))
    for i in range(NUM_BONES):
        q = rotations[i]
        if not np.isfinite(q).all():
            continue
        p = PARENTS[i]
        if p < 0:
            out[i] = q
        elif np.isfinite(rotations[p]).all():
            out[i] = (Rotation.from_quat(rotations[p]).inv() * Rotation.from_quat(q)).as_quat()
    return out
