"""Small rotation helpers for the solver.

Rotations inside the per-frame solver are ``(3, 3)`` float64 matrices acting on column
vectors (``v' = R @ v``), composed with ``@``: scipy's ``Rotation`` costs tens of microseconds
per call, and the solver makes a few hundred of these per person and frame. Conversions to
and from quaternions ``(x, y, z, w)`` go through scipy in one batched call.

Every vector here is a ``(3,)`` float64 in one right-handed frame chosen by the caller.
Functions are pure and return ``None`` (or NaN) instead of raising when a direction is
degenerate, so the solver can fall back.
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from scipy.spatial.transform import Rotation

#: Vectors shorter than this (metres, or unit-less for directions) count as degenerate.
EPS = 1e-9

IDENTITY_QUAT = np.array([0.0, 0.0, 0.0, 1.0])


def cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cross product of two ``(3,)`` vectors (``np.cross`` is slow on single vectors)."""
    return np.array([a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]])


def norm(v: np.ndarray) -> float:
    return math.sqrt(float(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]))


def unit(v: np.ndarray) -> np.ndarray | None:
    """``v / |v|`` or ``None`` if ``v`` is NaN or (almost) zero."""
    n = norm(v)
    if not (n >= EPS):
        return None
    return np.asarray(v, dtype=np.float64) / n


def perpendicular(v: np.ndarray, axis: np.ndarray) -> np.ndarray | None:
    """The unit component of ``v`` orthogonal to the unit vector ``axis`` (``None`` if
    ``v`` is (almost) parallel to ``axis`` or NaN)."""
    return unit(v - float(np.dot(v, axis)) * axis)


def basis(primary: np.ndarray, secondary: np.ndarray) -> np.ndarray | None:
    """``(3, 3)`` orthonormal right-handed basis, columns ``[p, s', p x s']`` with ``s'`` the
    part of ``secondary`` orthogonal to ``primary`` (``None`` if degenerate)."""
    p = unit(primary)
    if p is None:
        return None
    s = perpendicular(secondary, p)
    if s is None:
        return None
    return np.stack([p, s, cross(p, s)], axis=1)


def frame_rotation(rest_primary: np.ndarray, rest_secondary: np.ndarray,
                   primary: np.ndarray, secondary: np.ndarray) -> np.ndarray | None:
    """The rotation matrix ``G`` with ``G @ rest_primary`` along ``primary`` exactly and
    ``G @ rest_secondary`` in the half-plane of ``secondary`` (Gram-Schmidt). ``None`` if
    either pair is degenerate."""
    a = _rest_basis(tuple(float(v) for v in rest_primary), tuple(float(v) for v in rest_secondary))
    b = basis(primary, secondary)
    if a is None or b is None:
        return None
    return b @ a.T


@lru_cache(maxsize=64)
def _rest_basis(primary: tuple, secondary: tuple) -> np.ndarray | None:
    """:func:`basis` of constant rest directions, cached (the solver asks for a few pairs
    over and over)."""
    b = basis(np.array(primary), np.array(secondary))
    if b is not None:
        b.setflags(write=False)
    return b


def axis_angle_matrix(axis: np.ndarray, angle: float) -> np.ndarray:
    """Rotation matrix of ``angle`` radians about the unit vector ``axis`` (right hand)."""
    x, y, z = axis
    c, s = math.cos(angle), math.sin(angle)
    k = np.array([[0.0, -z, y], [z, 0.0, -x], [-y, x, 0.0]])
    return np.eye(3) + s * k + (1.0 - c) * (k @ k)


def swing(a: np.ndarray, b: np.ndarray) -> np.ndarray | None:
    """The smallest rotation (matrix) taking direction ``a`` to direction ``b``: its axis is
    ``a x b``, so it has no twist about ``a``. Opposite directions: a 180 degree turn about
    an axis perpendicular to ``a``. ``None`` if either is degenerate."""
    ua, ub = unit(a), unit(b)
    if ua is None or ub is None:
        return None
    c = cross(ua, ub)
    s = norm(c)
    d = float(np.dot(ua, ub))
    if s < 1e-12:
        if d > 0:
            return np.eye(3)
        helper = np.array([1.0, 0.0, 0.0]) if abs(ua[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
        return axis_angle_matrix(unit(cross(ua, helper)), math.pi)
    return axis_angle_matrix(c / s, math.atan2(s, d))


def angle_between(a: np.ndarray, b: np.ndarray) -> float:
    """Angle between two vectors in degrees, NaN if either is degenerate."""
    ua, ub = unit(a), unit(b)
    if ua is None or ub is None:
        return float("nan")
    return math.degrees(math.atan2(norm(cross(ua, ub)), float(np.dot(ua, ub))))


def continuous(q: np.ndarray, reference: np.ndarray | None) -> np.ndarray:
    """Flip the sign of quaternions ``q`` ``(..., 4)`` where they point away from
    ``reference`` (same shape), so a sequence never jumps between ``q`` and ``-q`` (the same
    rotation). Rows of ``reference`` with NaN leave ``q`` as is."""
    q = np.array(q, dtype=np.float64, copy=True)
    if reference is None:
        return q
    d = np.sum(q * np.asarray(reference, dtype=np.float64), axis=-1)
    flip = np.nan_to_num(d, nan=1.0) < 0
    q[flip] *= -1.0
    return q


def matrices_to_quats(m: np.ndarray) -> np.ndarray:
    """``(..., 3, 3)`` rotation matrices to ``(..., 4)`` quaternions ``(x, y, z, w)``."""
    m = np.asarray(m, dtype=np.float64)
    return Rotation.from_matrix(m.reshape(-1, 3, 3)).as_quat().reshape(m.shape[:-2] + (4,))


def quats_to_matrices(q: np.ndarray) -> np.ndarray:
    """``(..., 4)`` quaternions ``(x, y, z, w)`` to ``(..., 3, 3)`` rotation matrices."""
    q = np.asarray(q, dtype=np.float64)
    return Rotation.from_quat(q.reshape(-1, 4)).as_matrix().reshape(q.shape[:-1] + (3, 3))


def quat_multiply(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton product ``a * b`` of quaternions ``(..., 4)`` ``(x, y, z, w)`` (broadcasts):
    the rotation ``b`` then ``a``, as scipy's ``Rotation(a) * Rotation(b)`` without its
    per-call overhead."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    ax, ay, az, aw = np.moveaxis(a, -1, 0)
    bx, by, bz, bw = np.moveaxis(b, -1, 0)
    return np.stack([
        aw * bx + ax * bw + ay * bz - az * by,
        aw * by - ax * bz + ay * bw + az * bx,
        aw * bz + ax * by - ay * bx + az * bw,
        aw * bw - ax * bx - ay * by - az * bz,
    ], axis=-1)


def geodesic_degrees(q1: np.ndarray, q2: np.ndarray) -> np.ndarray:
    """Angle in degrees of the rotation between quaternions ``q1`` and ``q2`` ``(..., 4)``
    ``(x, y, z, w)``; ``q`` and ``-q`` give 0. NaN where either is NaN."""
    a = np.asarray(q1, dtype=np.float64)
    b = np.asarray(q2, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        a = a / np.linalg.norm(a, axis=-1, keepdims=True)
        b = b / np.linalg.norm(b, axis=-1, keepdims=True)
        d = np.abs(np.sum(a * b, axis=-1))
    return np.degrees(2.0 * np.arccos(np.clip(d, -1.0, 1.0)))
