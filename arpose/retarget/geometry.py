"""Small rotation helpers for the solver.

Rotations inside the per-frame solver are ``(3, 3)`` float64 matrices acting on column
vectors (``v' = R @ v``), composed with ``@``: scipy's ``Rotation`` costs tens of microseconds
per call, and the solver needs a few dozen of these per person and frame. The solver works on
*stacks*: the batched helpers (:func:`units`, :func:`bases`, :func:`frame_rotations`,
:func:`swings`, :func:`angles_between`) take ``(N, 3)`` vectors and return ``(N, 3)`` /
``(N, 3, 3)`` / ``(N,)`` arrays with **NaN rows where a row is degenerate**; the single-vector
helpers (:func:`unit`, :func:`frame_rotation`, :func:`swing`, :func:`angle_between`) return
``None`` (or NaN) instead. Conversions between matrices and quaternions ``(x, y, z, w)`` are
closed-form numpy on whole stacks.

Every vector here is float64 in one right-handed frame chosen by the caller.
Functions are pure and never raise when a direction is degenerate, so the solver can fall
back.
"""

from __future__ import annotations

import math

import numpy as np

#: Vectors shorter than this (metres, or unit-less for directions) count as degenerate.
EPS = 1e-9

IDENTITY_QUAT = np.array([0.0, 0.0, 0.0, 1.0])

#: The Levi-Civita symbol: ``einsum("ijk,...j,...k->...i", LEVI_CIVITA, a, b)`` is ``a x b``
#: (one call for a whole stack; ``np.cross`` costs several times more on small stacks).
LEVI_CIVITA = np.zeros((3, 3, 3))
LEVI_CIVITA[0, 1, 2] = LEVI_CIVITA[1, 2, 0] = LEVI_CIVITA[2, 0, 1] = 1.0
LEVI_CIVITA[0, 2, 1] = LEVI_CIVITA[2, 1, 0] = LEVI_CIVITA[1, 0, 2] = -1.0


def dots(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise dot products of ``(..., 3)`` vectors: ``(...)``."""
    return np.einsum("...i,...i->...", a, b)


def cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cross products ``a x b`` of ``(..., 3)`` vectors (broadcasts; also single ``(3,)``)."""
    return np.einsum("ijk,...j,...k->...i", LEVI_CIVITA, a, b)


def norm(v: np.ndarray) -> float:
    """Length of one ``(3,)`` vector."""
    return math.sqrt(float(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]))


def unit(v: np.ndarray) -> np.ndarray | None:
    """``v / |v|`` for one ``(3,)`` vector, or ``None`` if ``v`` is NaN or (almost) zero."""
    n = norm(v)
    if not (n >= EPS):
        return None
    return np.asarray(v, dtype=np.float64) / n


def perpendicular(v: np.ndarray, axis: np.ndarray) -> np.ndarray | None:
    """The unit component of ``v`` orthogonal to the unit vector ``axis`` (``None`` if
    ``v`` is (almost) parallel to ``axis`` or NaN)."""
    return unit(v - float(np.dot(v, axis)) * axis)


def units(v: np.ndarray) -> np.ndarray:
    """``(..., 3)`` vectors to unit length; NaN rows where a row is NaN or shorter than
    :data:`EPS`."""
    v = np.asarray(v, dtype=np.float64)
    n = np.sqrt(dots(v, v))
    return v / np.where(n >= EPS, n, np.nan)[..., None]  # NaN quietly: no 0/0


def perpendiculars(v: np.ndarray, axis: np.ndarray) -> np.ndarray:
    """Row-wise unit component of ``v`` ``(..., 3)`` orthogonal to the unit vectors ``axis``
    ``(..., 3)``; NaN rows where ``v`` is (almost) parallel to ``axis`` or either is NaN."""
    return units(v - dots(v, axis)[..., None] * axis)


def bases(primary: np.ndarray, secondary: np.ndarray) -> np.ndarray:
    """``(..., 3, 3)`` orthonormal right-handed bases, columns ``[p, s', p x s']`` with ``p``
    the unit ``primary`` and ``s'`` the unit part of ``secondary`` orthogonal to it
    (Gram-Schmidt; ``(..., 3)`` inputs). NaN where a pair is degenerate.

    With ``c = p x secondary``, ``c x p`` is the part of ``secondary`` orthogonal to ``p`` and
    both have the length ``|c|``: one length normalises ``s'`` and ``p x s'``."""
    return unit_bases(units(primary), secondary)


def unit_bases(p: np.ndarray, secondary: np.ndarray) -> np.ndarray:
    """:func:`bases` for primaries ``p`` that are unit vectors already (or NaN)."""
    c = cross(p, secondary)
    n = np.sqrt(dots(c, c))
    out = np.empty(p.shape + (3,))
    out[..., 0], out[..., 1], out[..., 2] = p, cross(c, p), c
    out[..., 1:] /= np.where(n >= EPS, n, np.nan)[..., None, None]  # degenerate: NaN quietly
    return out


def frame_rotations(rest_bases: np.ndarray, primary: np.ndarray, secondary: np.ndarray) -> np.ndarray:
    """``(..., 3, 3)`` rotation matrices ``G`` with ``G @ rest_primary`` along ``primary``
    exactly and ``G @ rest_secondary`` in the half-plane of ``secondary`` (all ``(..., 3)``).
    rest_bases: ``bases(rest_primary, rest_secondary)``, constant for a caller: compute it
    once. NaN where either pair is degenerate."""
    return bases(primary, secondary) @ np.swapaxes(rest_bases, -1, -2)


def axis_angle_matrices(axis: np.ndarray, angle: np.ndarray | float) -> np.ndarray:
    """``(..., 3, 3)`` rotation matrices of ``angle`` radians ``(...)`` about the unit vectors
    ``axis`` ``(..., 3)`` (right hand; Rodrigues' formula)."""
    axis = np.asarray(axis, dtype=np.float64)
    k = np.einsum("ijk,...j->...ik", LEVI_CIVITA, axis)  # k @ v = axis x v
    angle = np.asarray(angle, dtype=np.float64)[..., None, None]
    return np.eye(3) + np.sin(angle) * k + (1.0 - np.cos(angle)) * (k @ k)


def swings(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``(..., 3, 3)`` the smallest rotations taking directions ``a`` to directions ``b``
    (``(..., 3)``): the axis is ``a x b``, so there is no twist about ``a``. Opposite
    directions: a 180 degree turn about an axis perpendicular to ``a``. NaN where either is
    degenerate.

    Rodrigues' formula with ``v = a x b`` (unit ``a``, ``b``): ``sin = |v|``, ``cos = a . b``,
    so ``R = I + [v]x + (1 - cos) / |v|^2 [v]x^2`` without trigonometry."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape == b.shape:
        ua, ub = units(np.concatenate([a[None], b[None]]))  # one call for both
    else:
        ua, ub = units(a), units(b)
    v = cross(ua, ub)
    s2 = dots(v, v)
    d = dots(ua, ub)
    small = s2 < 1e-24  # |v| < 1e-12: (anti)parallel, no axis from a x b
    k = np.einsum("ijk,...j->...ik", LEVI_CIVITA, v)  # k @ x = v x x
    r = np.eye(3) + k + ((1.0 - d) / np.where(small, np.nan, s2))[..., None, None] * (k @ k)
    if small.any():
        helper = np.where((np.abs(ua[..., 0]) < 0.9)[..., None], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0])
        turn = axis_angle_matrices(units(cross(ua, helper)), np.where(d > 0, 0.0, math.pi))
        r = np.where(small[..., None, None], turn, r)
    return r


def angles_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Angles between ``(..., 3)`` vectors in degrees ``(...)``, NaN where either is
    degenerate."""
    ua, ub = units(a), units(b)
    c = cross(ua, ub)
    return np.degrees(np.arctan2(np.sqrt(dots(c, c)), dots(ua, ub)))


def _none_if_nan(m: np.ndarray) -> np.ndarray | None:
    return None if np.isnan(m).any() else m


def basis(primary: np.ndarray, secondary: np.ndarray) -> np.ndarray | None:
    """:func:`bases` of one pair of ``(3,)`` vectors: ``(3, 3)`` or ``None`` if degenerate."""
    return _none_if_nan(bases(primary, secondary))


def frame_rotation(
    rest_primary: np.ndarray, rest_secondary: np.ndarray, primary: np.ndarray, secondary: np.ndarray
) -> np.ndarray | None:
    """:func:`frame_rotations` of one rest pair and one observed pair (``(3,)`` each):
    ``(3, 3)`` or ``None`` if either pair is degenerate."""
    return _none_if_nan(frame_rotations(bases(rest_primary, rest_secondary), primary, secondary))


def axis_angle_matrix(axis: np.ndarray, angle: float) -> np.ndarray:
    """Rotation matrix of ``angle`` radians about the unit vector ``axis`` (right hand)."""
    return axis_angle_matrices(axis, angle)


def swing(a: np.ndarray, b: np.ndarray) -> np.ndarray | None:
    """:func:`swings` of one pair of ``(3,)`` directions: ``(3, 3)`` or ``None`` if either
    is degenerate."""
    return _none_if_nan(swings(a, b))


def angle_between(a: np.ndarray, b: np.ndarray) -> float:
    """Angle between two ``(3,)`` vectors in degrees, NaN if either is degenerate."""
    return float(angles_between(a, b))


def continuous(q: np.ndarray, reference: np.ndarray | None) -> np.ndarray:
    """Flip the sign of quaternions ``q`` ``(..., 4)`` where they point away from
    ``reference`` (same shape), so a sequence never jumps between ``q`` and ``-q`` (the same
    rotation). Rows of ``reference`` with NaN leave ``q`` as is."""
    q = np.array(q, dtype=np.float64, copy=True)
    if reference is None:
        return q
    q[dots(q, np.asarray(reference, dtype=np.float64)) < 0] *= -1.0  # NaN compares False: left as is
    return q


def _quaternion_map() -> tuple[np.ndarray, np.ndarray]:
    """The linear map behind :func:`matrices_to_quats`: a matrix's 9 entries (row-major) to
    ``K`` (4 x 4, flattened; row ``i`` is the unnormalised quaternion of branch ``i``) and the
    branch decision ``[m00, m11, m22, trace]``, plus a constant: ``m9 @ linear + const``."""
    linear, const = np.zeros((9, 20)), np.zeros(20)
    w = ((2, 1, 1, 2), (0, 2, 2, 0), (1, 0, 0, 1))  # w_i = m_ab - m_cd
    for i in range(3):
        const[5 * i] = 1.0  # K_ii = 1 - trace + 2 m_ii
        for j in range(3):
            linear[4 * j, 5 * i] += 1.0 if j == i else -1.0
            if j != i:  # K_ij = m_ij + m_ji
                linear[3 * i + j, 4 * i + j] += 1.0
                linear[3 * j + i, 4 * i + j] += 1.0
        ra, ca, rb, cb = w[i]
        for col in (4 * i + 3, 12 + i):  # K_i3 = K_3i = w_i
            linear[3 * ra + ca, col] += 1.0
            linear[3 * rb + cb, col] -= 1.0
        linear[4 * i, 15] = 1.0  # K_33 = 1 + trace
        linear[4 * i, 16 + i] = 1.0  # decision: the diagonal ...
        linear[4 * i, 19] = 1.0  # ... and the trace
    const[15] = 1.0
    return linear, const


_QUAT_LINEAR, _QUAT_CONST = _quaternion_map()


def matrices_to_quats(m: np.ndarray) -> np.ndarray:
    """``(..., 3, 3)`` rotation matrices to ``(..., 4)`` unit quaternions ``(x, y, z, w)``.

    The branch-wise formula of scipy's ``Rotation.from_matrix`` (Markley 2008: the quaternion
    from the largest of the diagonal and the trace, then normalised; same branch, same sign),
    as one linear map on the whole stack and without scipy's orthogonality check: for
    rotation matrices the result equals scipy's to float rounding; other matrices are not
    projected onto a rotation first. NaN matrices give NaN quaternions.
    """
    m = np.asarray(m, dtype=np.float64)
    shape = m.shape[:-2]
    k = m.reshape(-1, 9) @ _QUAT_LINEAR + _QUAT_CONST
    q = k[:, :16].reshape(-1, 4, 4)[np.arange(len(k)), np.argmax(k[:, 16:], axis=1)]
    q /= np.sqrt(dots(q, q))[:, None]
    return q.reshape(shape + (4,))


def _product_tables() -> tuple[np.ndarray, np.ndarray]:
    """Quaternion algebra as constant tensors, for ``(x, y, z, w)``:
    ``HAMILTON[i, j, k]``: ``(a * b)_i = sum HAMILTON[i, j, k] a_j b_k``;
    ``ROTATION[r, c, k, l]``: the matrix of a unit ``q`` is ``sum ROTATION[r, c, k, l] q_k q_l``."""
    x, y, z, w = range(4)
    ham = np.zeros((4, 4, 4))
    for i, terms in enumerate(
        (
            ((w, x, 1), (x, w, 1), (y, z, 1), (z, y, -1)),
            ((w, y, 1), (x, z, -1), (y, w, 1), (z, x, 1)),
            ((w, z, 1), (x, y, 1), (y, x, -1), (z, w, 1)),
            ((w, w, 1), (x, x, -1), (y, y, -1), (z, z, -1)),
        )
    ):
        for j, k, sign in terms:
            ham[i, j, k] = sign
    rot = np.zeros((3, 3, 4, 4))
    for r, c, terms in (
        (0, 0, ((x, x, 1), (y, y, -1), (z, z, -1), (w, w, 1))),
        (1, 1, ((x, x, -1), (y, y, 1), (z, z, -1), (w, w, 1))),
        (2, 2, ((x, x, -1), (y, y, -1), (z, z, 1), (w, w, 1))),
        (0, 1, ((x, y, 2), (z, w, -2))),
        (1, 0, ((x, y, 2), (z, w, 2))),
        (0, 2, ((x, z, 2), (y, w, 2))),
        (2, 0, ((x, z, 2), (y, w, -2))),
        (1, 2, ((y, z, 2), (x, w, -2))),
        (2, 1, ((y, z, 2), (x, w, 2))),
    ):
        for k, l, v in terms:
            rot[r, c, k, l] = v
    return ham, rot


HAMILTON, _ROTATION = _product_tables()
_ROTATION_16 = _ROTATION.reshape(9, 16).T  # (q_k q_l flattened) @ _ROTATION_16 = matrix (9)


def quats_to_matrices(q: np.ndarray) -> np.ndarray:
    """``(..., 4)`` quaternions ``(x, y, z, w)`` (any length: divided by ``|q|^2``) to
    ``(..., 3, 3)`` rotation matrices (the formula of scipy's ``Rotation.from_quat(q).as_matrix()``,
    as one matrix product on the outer products ``q q^T``). Zero or NaN quaternions give NaN
    matrices."""
    q = np.asarray(q, dtype=np.float64)
    n2 = dots(q, q)
    outer = (q[..., :, None] * q[..., None, :]).reshape(q.shape[:-1] + (16,))
    return (outer @ _ROTATION_16 / np.where(n2 > 0, n2, np.nan)[..., None]).reshape(q.shape[:-1] + (3, 3))


def quat_multiply(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton product ``a * b`` of quaternions ``(..., 4)`` ``(x, y, z, w)`` (broadcasts):
    the rotation ``b`` then ``a``, as scipy's ``Rotation(a) * Rotation(b)`` without its
    per-call overhead."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.ndim == 1:  # one rotation for many: its 4 x 4 left-multiplication matrix, once
        return b @ np.einsum("ijk,j->ki", HAMILTON, a)
    return np.einsum("ijk,...j,...k->...i", HAMILTON, a, b)


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


def turn_towards(start: np.ndarray, target: np.ndarray, max_angle: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    """Rotations part of the way from ``start`` to ``target``: at most ``max_angle`` radians.

    start, target: ``(..., 4)`` unit quaternions ``(x, y, z, w)``; max_angle: radians
    (broadcast to ``(...)``; ``inf`` for no limit). Each result turns ``start`` towards
    ``target`` along the shortest path (the same axis as slerp) by
    ``min(angle(start, target), max_angle)``. Returns ``(rotations (..., 4), reached (...))``:
    ``reached`` is True where the result is ``target`` itself (the turn fitted, or a row held
    NaN). The result keeps ``target``'s sign where it is reached, else ``start``'s.
    """
    a = np.asarray(start, dtype=np.float64)
    b = np.asarray(target, dtype=np.float64)
    c = dots(a, b)
    b_near = np.where((c < 0)[..., None], -b, b)  # the same rotation, on start's side
    cos_half = np.clip(np.abs(c), 0.0, 1.0)
    with np.errstate(invalid="ignore"):
        angle = 2.0 * np.arccos(cos_half)
    limit = np.broadcast_to(np.asarray(max_angle, dtype=np.float64), angle.shape)
    reached = ~(angle > limit)  # NaN rows count as reached (nothing to limit)
    t = np.where(reached, 1.0, limit / np.where(angle > 0, angle, 1.0))
    half = angle / 2.0
    sin_half = np.sin(half)
    safe = sin_half > 1e-12
    wa = np.where(safe, np.sin((1.0 - t) * half) / np.where(safe, sin_half, 1.0), 1.0 - t)
    wb = np.where(safe, np.sin(t * half) / np.where(safe, sin_half, 1.0), t)
    out = wa[..., None] * a + wb[..., None] * b_near
    out /= np.linalg.norm(out, axis=-1, keepdims=True)
    return np.where(reached[..., None], b, out), reached
